using System.Net;
using Engine.Silo.Persistence.Postgres;
using Engine.Silo.Runtime;
using Engine.Tests.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Engine.Tests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class EngineStartTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Start_ConnectionStringOnEmptyDatabase_MigratesAndIsReady()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(Start_ConnectionStringOnEmptyDatabase_MigratesAndIsReady));

        foreach (var _ in new[] { "first start", "second start" })
        {
            await using var app = EngineApp.With(new Dictionary<string, string?> { ["ConnectionStrings:Engine"] = connectionString });

            var ready = await app.Http.GetAsync("/health/ready");

            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var database = app.Services.GetRequiredService<EngineSilo>().Database;
            Assert.NotNull(database);
            await using var db = EngineDbContext.Create(database);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
        }
    }

    [Fact]
    public async Task Start_SecondNodeOnTheDatabase_SharesKeysAndRefusesAnotherShardCount()
    {
        var connectionString = await postgres.CreateDatabaseAsync(nameof(Start_SecondNodeOnTheDatabase_SharesKeysAndRefusesAnotherShardCount));
        Trader trader;
        await using (var first = EngineApp.With(new Dictionary<string, string?> { ["ConnectionStrings:Engine"] = connectionString }))
            trader = await first.CreateTraderAsync();

        // Another data folder, same database: the account key (derived from the database's secret) still works.
        await using (var second = EngineApp.With(new Dictionary<string, string?> { ["ConnectionStrings:Engine"] = connectionString }))
        {
            var (status, _) = await second.GetAsync(trader.Path, trader.ApiKey);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(trader.ApiKey, second.Services.GetRequiredService<EngineSilo>().Directory.KeyFor(new Engine.Grains.AccountId(trader.AccountId)));
        }

        await using var third = EngineApp.With(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Engine"] = connectionString,
            ["Engine:Shards"] = "3",
        });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => third.Http.GetAsync("/health/ready"));
        Assert.Contains("created with 2 shards", error.Message);
    }
}
