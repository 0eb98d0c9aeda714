using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Engine.Tests.Durability;

/// <summary>
/// Copy signals are delivered exactly once per follower across a crash: the engine process is SIGKILLed
/// between the leader's fill and its followers' orders (deliveries held back), between the followers'
/// orders and the leader's acknowledgment (acknowledgments held back), and in the middle of a real
/// fan-out; after recovery every follower has exactly one outcome per signal, on every shard.
/// </summary>
public sealed class CopyCrashRecoveryTests(ITestOutputHelper output) : EngineProcessTest(output)
{
    private const string Op = EngineProcess.OperatorKey;
    private const int Shards = 4;

    [Theory]
    [InlineData("Engine__Copy__HoldDeliveries")]
    [InlineData("Engine__Copy__HoldAcknowledgments")]
    public async Task Kill_InsideTheFanOut_EveryFollowerGetsEachSignalOnce(string hold)
    {
        var engine = await StartEngineAsync(Shards, new Dictionary<string, string> { [hold] = "true" });
        var (leader, strategy) = await LeaderAsync(engine);
        var followers = await FollowersAsync(engine, strategy, 12);
        await BuyAsync(engine, leader, "0.1");
        var expected = hold.EndsWith("HoldDeliveries", StringComparison.Ordinal) ? 0 : 1;
        foreach (var f in followers) Assert.Equal(expected, (await OutcomesAsync(engine, f)).Count);

        await engine.KillAsync();
        engine = await StartEngineAsync(Shards);

        await AssertOneOutcomePerSignalAsync(engine, followers, 1);
        foreach (var f in followers) Assert.Equal(0.05m, await HeldAsync(engine, f));
        // Delivery goes on: the next signal, once each (prices are not journaled: the feed gives one again).
        await PriceAsync(engine, "50000");
        await BuyAsync(engine, leader, "0.1");
        await AssertOneOutcomePerSignalAsync(engine, followers, 2);
        foreach (var f in followers) Assert.Equal(0.1m, await HeldAsync(engine, f));
    }

    [Fact]
    public async Task Kill_RightAfterTheLeadersFill_NoFollowerLosesOrRepeatsTheSignal()
    {
        var engine = await StartEngineAsync(Shards);
        var (leader, strategy) = await LeaderAsync(engine);
        var followers = await FollowersAsync(engine, strategy, 40);
        // The fill is acknowledged once durable; the process dies while its fan-out runs.
        await BuyAsync(engine, leader, "0.1");
        await engine.KillAsync();
        engine = await StartEngineAsync(Shards);

        await AssertOneOutcomePerSignalAsync(engine, followers, 1);
        foreach (var f in followers) Assert.Equal(0.05m, await HeldAsync(engine, f));
    }

    private static async Task AssertOneOutcomePerSignalAsync(EngineProcess engine, IReadOnlyList<Follower> followers, int signals)
    {
        foreach (var f in followers)
        {
            var outcomes = await OutcomesAsync(engine, f);
            Assert.Equal(Enumerable.Range(1, signals).Select(i => $"{f.Strategy}-g{i}"), outcomes.Select(o => (string)o!["signalId"]!));
            Assert.All(outcomes, o => Assert.Equal("copied", (string?)o!["outcome"]));
        }
    }

    private static async Task<(Account Leader, string Strategy)> LeaderAsync(EngineProcess engine)
    {
        var leader = await AccountAsync(engine, "leader", manual: "10000");
        await PriceAsync(engine, "50000");
        var strategy = (string)(await engine.PostAsync("/v1/strategies", leader.Key,
            new JsonObject { ["accountId"] = leader.Id, ["bucketId"] = leader.Bucket, ["name"] = "trend" }, HttpStatusCode.Created))["strategyId"]!;
        return (leader, strategy);
    }

    private static async Task<List<Follower>> FollowersAsync(EngineProcess engine, string strategy, int count)
    {
        var followers = new List<Follower>();
        for (var i = 0; i < count; i++)
        {
            var account = await AccountAsync(engine, $"follower-{i}", manual: "0");
            var sub = await engine.PostAsync($"/v1/strategies/{strategy}/subscriptions", account.Key, new JsonObject
            {
                ["accountId"] = account.Id,
                ["allocation"] = "5000",
                ["sizing"] = new JsonObject { ["mode"] = "fixedRatio", ["ratio"] = "0.5" },
                ["onInsufficientMargin"] = "skip",
            }, HttpStatusCode.Created);
            followers.Add(new Follower(account, strategy, (string)sub["subscriptionId"]!, (string)sub["bucketId"]!));
        }

        return followers;
    }

    private static Task PriceAsync(EngineProcess engine, string price) =>
        engine.PostAsync("/v1/prices", Op, new JsonObject
        {
            ["ticks"] = new JsonArray(new JsonObject { ["source"] = "test", ["symbol"] = "BTC-USDT", ["price"] = price }),
        });

    private static Task BuyAsync(EngineProcess engine, Account leader, string quantity) =>
        engine.PostAsync($"/v1/accounts/{leader.Id}/orders", leader.Key,
            new JsonObject { ["symbol"] = "BTC-USDT", ["side"] = "buy", ["type"] = "market", ["quantity"] = quantity }, HttpStatusCode.Created);

    private static async Task<JsonArray> OutcomesAsync(EngineProcess engine, Follower f) =>
        (JsonArray)await engine.GetAsync($"/v1/accounts/{f.Account.Id}/subscriptions/{f.Subscription}/outcomes", f.Account.Key);

    private static async Task<decimal> HeldAsync(EngineProcess engine, Follower f)
    {
        var bucket = await engine.GetAsync($"/v1/accounts/{f.Account.Id}/buckets/{f.Bucket}", f.Account.Key);
        var positions = (JsonArray)bucket["positions"]!;
        return positions.Count == 0 ? 0m : decimal.Parse((string)positions[0]!["quantity"]!, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<Account> AccountAsync(EngineProcess engine, string name, string manual)
    {
        var created = await engine.PostAsync("/v1/accounts", Op, new JsonObject { ["name"] = name }, HttpStatusCode.Created);
        var id = (string)created["accountId"]!;
        var bucket = (string)(await engine.GetAsync($"/v1/accounts/{id}"))["buckets"]![0]!["bucketId"]!;
        await engine.PostAsync($"/v1/accounts/{id}/deposits", Op, new JsonObject { ["amount"] = "10000" });
        var account = new Account(id, (string)created["apiKey"]!, bucket);
        if (manual != "0")
            await engine.PostAsync($"/v1/accounts/{id}/buckets/{bucket}/transfers", account.Key, new JsonObject { ["direction"] = "in", ["amount"] = manual });
        return account;
    }

    private sealed record Account(string Id, string Key, string Bucket);

    private sealed record Follower(Account Account, string Strategy, string Subscription, string Bucket);
}
