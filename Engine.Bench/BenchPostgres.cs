using Engine.Tests.Support;

namespace Engine.Bench;

/// <summary>
/// The bench's PostgreSQL: one throwaway server for the whole run (the tests' <see cref="PostgresServer"/>),
/// started on first use, with a fresh database per measured engine. Stopped and removed when the run ends.
/// </summary>
internal static class BenchPostgres
{
    private static PostgresServer? _server;
    private static int _databases;

    public static async Task<PostgresServer> ServerAsync()
    {
        if (_server is not null) return _server;
        Console.WriteLine("starting a throwaway PostgreSQL server (initdb; fsync and synchronous_commit on, shared_buffers 256 MB) ...");
        _server = await PostgresServer.StartAsync(sharedBuffersMb: 256);
        Console.WriteLine($"PostgreSQL listening on 127.0.0.1:{_server.Port}");
        return _server;
    }

    /// <summary>A new empty database; the engine migrates it when it starts on it.</summary>
    public static async Task<string> NewDatabaseAsync(string purpose) =>
        await (await ServerAsync()).CreateDatabaseAsync($"bench_{purpose}_{Interlocked.Increment(ref _databases)}");

    /// <summary>A copy of a database nobody is connected to (as copying a data folder).</summary>
    public static async Task<string> CopyDatabaseAsync(string connectionString, string purpose)
    {
        var template = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!;
        Npgsql.NpgsqlConnection.ClearAllPools();
        return await (await ServerAsync()).CreateDatabaseAsync($"bench_{purpose}_{Interlocked.Increment(ref _databases)}", template);
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        await (await ServerAsync()).DropDatabaseAsync(new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!);
    }

    /// <summary>Bytes PostgreSQL uses for a table (with its indexes and TOAST).</summary>
    public static async Task<long> TableBytesAsync(string connectionString, string table)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand($"SELECT pg_total_relation_size('{table}')");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public static async Task StopAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _server = null;
    }
}
