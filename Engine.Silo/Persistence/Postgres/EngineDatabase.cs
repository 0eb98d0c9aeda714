using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Engine.Silo.Persistence.Postgres;

/// <summary>The engine's PostgreSQL database: opening it (schema migrated) and the settings nodes share.</summary>
public static class EngineDatabase
{
    /// <summary>
    /// A data source on <paramref name="connectionString"/>, with every pending migration applied. Several nodes
    /// may start at once: EF takes a database lock while it migrates, and an applied migration is not re-run.
    /// </summary>
    public static async Task<NpgsqlDataSource> OpenAsync(string connectionString, CancellationToken ct = default)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        try
        {
            await using var db = EngineDbContext.Create(dataSource);
            await db.Database.MigrateAsync(ct);
            return dataSource;
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The stored value of <paramref name="key"/>; when there is none, stores <paramref name="proposed"/> and
    /// returns it. Two nodes racing both get the first one stored.
    /// </summary>
    public static async Task<string> GetOrAddSettingAsync(NpgsqlDataSource dataSource, string key, string proposed, CancellationToken ct = default)
    {
        // One statement: the insert, or else the stored row. The select's snapshot predates a racing node's
        // commit that the insert waited for, so it can come back empty once: then the row is there to read.
        await using var command = dataSource.CreateCommand(
            "WITH added AS (INSERT INTO engine_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value) " +
            "SELECT value FROM added UNION ALL SELECT value FROM engine_meta WHERE key = $1 LIMIT 1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = proposed });
        return (string?)await command.ExecuteScalarAsync(ct)
            ?? await GetSettingAsync(dataSource, key, ct)
            ?? throw new InvalidOperationException($"the setting {key} was neither stored nor found");
    }

    /// <summary>The stored value of <paramref name="key"/>, or null.</summary>
    public static async Task<string?> GetSettingAsync(NpgsqlDataSource dataSource, string key, CancellationToken ct = default)
    {
        await using var command = dataSource.CreateCommand("SELECT value FROM engine_meta WHERE key = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        return (string?)await command.ExecuteScalarAsync(ct);
    }
}
