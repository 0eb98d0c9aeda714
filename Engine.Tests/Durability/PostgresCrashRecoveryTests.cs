using Engine.Tests.Postgres;
using Xunit.Abstractions;

namespace Engine.Tests.Durability;

/// <summary>The real engine process on PostgreSQL, SIGKILLed under load and restarted on the same database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresCrashRecoveryTests(ITestOutputHelper output, PostgresFixture postgres) : EngineProcessTest(output)
{
    private readonly Dictionary<string, string> _store = [];

    protected override IReadOnlyDictionary<string, string> StoreEnvironment => _store;

    public override async Task InitializeAsync() =>
        _store["ConnectionStrings__Engine"] = await postgres.CreateDatabaseAsync("crash");

    [Fact]
    public Task KillMidLoad_OnPostgres_RestartHasEveryAcknowledgedOrderAndNothingElse() =>
        CrashRecoveryTests.KillMidLoadAsync(() => StartEngineAsync(shards: 4), Log);
}
