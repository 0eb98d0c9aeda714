using Engine.Silo.Persistence.Postgres;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;

namespace Engine.Tests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class MigrationTests(PostgresFixture postgres)
{
    [Fact]
    public async Task OpenAsync_EmptyDatabase_CreatesTheStoreTables()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(OpenAsync_EmptyDatabase_CreatesTheStoreTables));

        await using var dataSource = await EngineDatabase.OpenAsync(connectionString);

        await using var command = dataSource.CreateCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
        var tables = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        Assert.Equal(["__EFMigrationsHistory", "engine_meta", "history_checkpoints", "history_copy_outcomes", "history_fills", "history_orders",
            "history_plan_events", "history_positions", "journal", "snapshot_chunks", "snapshots"], tables);
    }

    [Fact]
    public async Task OpenAsync_SecondStart_AppliesNothingAndKeepsData()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(OpenAsync_SecondStart_AppliesNothingAndKeepsData));
        await using (var first = await EngineDatabase.OpenAsync(connectionString))
            await EngineDatabase.GetOrAddSettingAsync(first, "probe", "kept");

        await using var second = await EngineDatabase.OpenAsync(connectionString);

        await using var db = EngineDbContext.Create(second);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
        Assert.Equal("kept", await EngineDatabase.GetSettingAsync(second, "probe"));
    }

    [Fact]
    public async Task Migrations_AfterMigrating_MatchTheModel()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(Migrations_AfterMigrating_MatchTheModel));
        await using var dataSource = await EngineDatabase.OpenAsync(connectionString);

        await using var db = EngineDbContext.Create(dataSource);

        // The hand-written model snapshot equals the model: no migration is missing.
        Assert.False(db.Database.HasPendingModelChanges());
        // And the migrations (not only the snapshot) made every table and column of the model, of its type.
        var columns = await ColumnsAsync(dataSource);
        foreach (var entity in db.Model.GetEntityTypes())
        {
            var table = StoreObjectIdentifier.Table(entity.GetTableName()!);
            foreach (var property in entity.GetProperties())
            {
                var column = property.GetColumnName(table)!;
                Assert.True(columns.TryGetValue((table.Name, column), out var stored), $"{table.Name}.{column} is missing");
                Assert.Equal(property.GetColumnType(table), stored.Type);
                Assert.Equal(property.IsColumnNullable(table), stored.Nullable);
            }
        }
    }

    [Fact]
    public async Task GetOrAddSettingAsync_TwoProposals_FirstOneWins()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(GetOrAddSettingAsync_TwoProposals_FirstOneWins));
        await using var dataSource = await EngineDatabase.OpenAsync(connectionString);

        var first = await EngineDatabase.GetOrAddSettingAsync(dataSource, "shards", "4");
        var second = await EngineDatabase.GetOrAddSettingAsync(dataSource, "shards", "8");

        Assert.Equal("4", first);
        Assert.Equal("4", second);
    }

    [Fact]
    public async Task OpenAsync_ServerUnreachable_ThrowsNpgsqlException()
    {
        var builder = new NpgsqlConnectionStringBuilder(postgres.Server.AdminConnectionString) { Port = 1, Timeout = 2 };

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => EngineDatabase.OpenAsync(builder.ConnectionString));
    }

    private static async Task<Dictionary<(string Table, string Column), (string Type, bool Nullable)>> ColumnsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns WHERE table_schema = 'public'");
        var columns = new Dictionary<(string, string), (string, bool)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) columns[(reader.GetString(0), reader.GetString(1))] = (reader.GetString(2), reader.GetBoolean(3));
        return columns;
    }
}
