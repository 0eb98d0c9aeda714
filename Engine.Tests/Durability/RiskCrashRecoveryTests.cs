using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Engine.Tests.Durability;

/// <summary>
/// The risk controls' state survives a crash: the engine process is SIGKILLed (no snapshot is
/// written) and recovers from the journal alone, with its kill switches, dead man's switch deadline,
/// halts, running trigger confirmation and daily-loss lock as they were acknowledged.
/// </summary>
public sealed class RiskCrashRecoveryTests(ITestOutputHelper output) : EngineProcessTest(output)
{
    private const string Op = EngineProcess.OperatorKey;

    /// <summary>Breaker pauses and confirmations long enough that real time cannot end them during the test.</summary>
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Engine__CircuitBreaker__MaxMove"] = "0.04",
        ["Engine__CircuitBreaker__PauseSeconds"] = "3600",
    };

    [Fact]
    public async Task Kill_RiskStateAcknowledged_RecoveredFromTheJournalAlone()
    {
        var engine = await StartAsync();
        var killed = await TraderAsync(engine, "killed");
        var bot = await TraderAsync(engine, "bot");
        var careful = await TraderAsync(engine, "careful");
        var loser = await TraderAsync(engine, "loser");
        await PriceAsync(engine, "BTC-USDT", "60000");
        await PriceAsync(engine, "SOL-USDT", "150");
        await PriceAsync(engine, "BNB-USDT", "600");
        await PriceAsync(engine, "XRP-USDT", "0.5");

        await engine.PostAsync($"/v1/accounts/{killed.Id}/kill-switch", killed.Key, new JsonObject { ["bucketId"] = killed.Bucket });
        var entry = (string)(await engine.PostAsync($"/v1/accounts/{bot.Id}/orders", bot.Key,
            new JsonObject { ["symbol"] = "SOL-USDT", ["side"] = "buy", ["type"] = "limit", ["quantity"] = "1", ["price"] = "145" }, HttpStatusCode.Created))["orderId"]!;
        var deadMan = await engine.PostAsync($"/v1/accounts/{bot.Id}/cancel-all-after", bot.Key, new JsonObject { ["timeoutSeconds"] = 3600 });
        var stop = (string)(await engine.PostAsync($"/v1/accounts/{careful.Id}/orders", careful.Key, new JsonObject
        {
            ["symbol"] = "BTC-USDT", ["side"] = "sell", ["type"] = "stop", ["quantity"] = "0.01", ["triggerPrice"] = "59500", ["triggerConfirmation"] = "PT1H",
        }, HttpStatusCode.Created))["orderId"]!;
        await PriceAsync(engine, "BTC-USDT", "59400");
        var confirming = await WaitForAsync(engine, $"/v1/accounts/{careful.Id}/orders/{stop}", o => o["confirmingUntil"] is not null);
        await engine.PostAsync("/v1/operator/symbols/ETH-USDT/halt", Op, new JsonObject());
        await PriceAsync(engine, "XRP-USDT", "0.45");
        var capped = (string)(await engine.PostAsync($"/v1/accounts/{loser.Id}/buckets", loser.Key,
            new JsonObject { ["name"] = "capped", ["allocation"] = "2000", ["dailyLossLimit"] = "20" }, HttpStatusCode.Created))["bucketId"]!;
        await engine.PostAsync($"/v1/accounts/{loser.Id}/orders", loser.Key,
            new JsonObject { ["bucketId"] = capped, ["symbol"] = "BNB-USDT", ["side"] = "buy", ["type"] = "market", ["quantity"] = "1" }, HttpStatusCode.Created);
        await PriceAsync(engine, "BNB-USDT", "579.5");
        var locked = await WaitForAsync(engine, $"/v1/accounts/{loser.Id}/buckets/{capped}", b => (string?)b["lockReason"] == "daily_loss_limit");
        var before = new JsonObject
        {
            ["killed"] = await engine.GetAsync($"/v1/accounts/{killed.Id}"),
            ["deadMan"] = await engine.GetAsync($"/v1/accounts/{bot.Id}/cancel-all-after"),
            ["entry"] = await engine.GetAsync($"/v1/accounts/{bot.Id}/orders/{entry}"),
            ["confirming"] = confirming.DeepClone(),
            ["locked"] = locked.DeepClone(),
            ["eth"] = await engine.GetAsync("/v1/symbols/ETH-USDT/status"),
            ["xrp"] = await engine.GetAsync("/v1/symbols/XRP-USDT/status"),
        };
        Assert.True((bool)before["xrp"]!["halted"]!, before.ToJsonString());
        Assert.True((bool)before["deadMan"]!["armed"]!);

        await engine.KillAsync();
        engine = await StartAsync();

        var replayed = await engine.WaitForLineAsync(l => Regex.IsMatch(l, @"recovered \d+ accounts and \d+ orders from snapshot 0 \+ [1-9]\d* events"), TimeSpan.FromSeconds(10));
        Assert.True(replayed is not null, "the engine did not recover from the journal alone");
        Assert.DoesNotContain(engine.Output, l => Regex.IsMatch(l, @"from snapshot [1-9]"));
        var after = new JsonObject
        {
            ["killed"] = await engine.GetAsync($"/v1/accounts/{killed.Id}"),
            ["deadMan"] = await engine.GetAsync($"/v1/accounts/{bot.Id}/cancel-all-after"),
            ["entry"] = await engine.GetAsync($"/v1/accounts/{bot.Id}/orders/{entry}"),
            ["confirming"] = await engine.GetAsync($"/v1/accounts/{careful.Id}/orders/{stop}"),
            ["locked"] = await engine.GetAsync($"/v1/accounts/{loser.Id}/buckets/{capped}"),
            ["eth"] = await engine.GetAsync("/v1/symbols/ETH-USDT/status"),
            ["xrp"] = await engine.GetAsync("/v1/symbols/XRP-USDT/status"),
        };
        // Positions and orders show mark prices and unrealized PnL, which the restarted engine has no
        // price for yet; the risk state is what must match.
        foreach (var name in new[] { "deadMan", "entry", "confirming", "eth", "xrp" })
            Assert.True(JsonNode.DeepEquals(before[name], after[name]), $"{name} differs:\nbefore {before[name]!.ToJsonString()}\nafter  {after[name]!.ToJsonString()}");
        Assert.Equal(deadMan["deadline"]!.ToJsonString(), after["deadMan"]!["deadline"]!.ToJsonString());
        Assert.Equal("kill_switch", (string?)after["killed"]!["buckets"]![0]!["lockReason"]);
        Assert.Equal(("daily_loss_limit", true), ((string?)after["locked"]!["lockReason"], (bool)after["locked"]!["locked"]!));
        var refused = await engine.SendAsync(HttpMethod.Post, $"/v1/accounts/{killed.Id}/orders", killed.Key,
            new JsonObject { ["symbol"] = "SOL-USDT", ["side"] = "buy", ["type"] = "limit", ["quantity"] = "1", ["price"] = "140" });
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "trading_disabled"), (refused.Status, (string?)refused.Body?["code"]));
    }

    private Task<EngineProcess> StartAsync() => StartEngineAsync(2, Settings);

    private static async Task<TestAccount> TraderAsync(EngineProcess engine, string name)
    {
        var created = await engine.PostAsync("/v1/accounts", Op, new JsonObject { ["name"] = name }, HttpStatusCode.Created);
        var id = (string)created["accountId"]!;
        var bucket = (string)(await engine.GetAsync($"/v1/accounts/{id}"))["buckets"]![0]!["bucketId"]!;
        await engine.PostAsync($"/v1/accounts/{id}/deposits", Op, new JsonObject { ["amount"] = "10000" });
        var account = new TestAccount(id, (string)created["apiKey"]!, bucket);
        await engine.PostAsync($"/v1/accounts/{id}/buckets/{bucket}/transfers", account.Key, new JsonObject { ["direction"] = "in", ["amount"] = "5000" });
        return account;
    }

    private static Task PriceAsync(EngineProcess engine, string symbol, string price) =>
        engine.PostAsync("/v1/prices", Op, new JsonObject
        {
            ["ticks"] = new JsonArray(new JsonObject { ["source"] = "test", ["symbol"] = symbol, ["price"] = price }),
        });

    /// <summary>Prices reach the shards asynchronously: reads until the answer shows what is expected (bounded).</summary>
    private static async Task<JsonNode> WaitForAsync(EngineProcess engine, string path, Func<JsonNode, bool> until)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var answer = await engine.GetAsync(path);
            if (until(answer)) return answer;
            if (clock.Elapsed > TimeSpan.FromSeconds(15)) throw new Xunit.Sdk.XunitException($"{path} never showed what was expected: {answer.ToJsonString()}");
            await Task.Delay(20);
        }
    }

    private sealed record TestAccount(string Id, string Key, string Bucket);
}
