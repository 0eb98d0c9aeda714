using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>
/// Copy trading across a clean restart (a stop, which snapshots, and a start on the same data folder):
/// strategies, subscriptions, outcomes and the TP/SL links all come back, and the next signal is copied
/// once, by the followers that were there.
/// </summary>
public sealed class CopyRecoveryApiTests : IAsyncLifetime
{
    private EngineApp _app = EngineApp.With(new Dictionary<string, string?>());

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _app.KeepData = false;
        await _app.DisposeAsync();
        if (Directory.Exists(_app.DataDirectory)) Directory.Delete(_app.DataDirectory, recursive: true);
    }

    private async Task<JsonElement> GetOkAsync(string path, string key) => (await _app.GetAsync(path, key)).Status(HttpStatusCode.OK);

    [Fact]
    public async Task Restart_StrategySubscriptionsAndOutcomes_SurviveAndCopyingGoesOn()
    {
        var leader = await _app.CreateTraderAsync("leader", wallet: "20000", bucket: "10000");
        var followers = new[] { await _app.CreateTraderAsync("f1", wallet: "20000", bucket: "0"), await _app.CreateTraderAsync("f2", wallet: "20000", bucket: "0") };
        await _app.SetPriceAsync("BTC-USDT", "50000");
        var strategy = (await _app.PostAsync("/v1/strategies", new { accountId = leader.AccountId, bucketId = leader.BucketId, name = "trend" }, leader.ApiKey))
            .Status(HttpStatusCode.Created).Str("strategyId");
        var subs = new List<string>();
        foreach (var f in followers)
            subs.Add((await _app.PostAsync($"/v1/strategies/{strategy}/subscriptions",
                new { accountId = f.AccountId, allocation = "5000", sizing = new { mode = "fixedRatio", ratio = "0.5" }, copyTakeProfitStopLoss = true, onInsufficientMargin = "skip" }, f.ApiKey))
                .Status(HttpStatusCode.Created).Str("subscriptionId"));
        (await _app.PostAsync($"{leader.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.2" }, leader.ApiKey)).Status(HttpStatusCode.Created);
        var tp = (await _app.PostAsync($"{leader.Path}/orders", new { symbol = "BTC-USDT", side = "sell", type = "takeProfit", quantity = "0.2", triggerPrice = "55000", reduceOnly = true }, leader.ApiKey))
            .Status(HttpStatusCode.Created).Str("orderId");
        var before = new List<string> { (await GetOkAsync($"/v1/strategies/{strategy}", leader.ApiKey)).GetRawText() };
        for (var i = 0; i < followers.Length; i++)
        {
            before.Add((await GetOkAsync($"{followers[i].Path}/subscriptions/{subs[i]}", followers[i].ApiKey)).GetRawText());
            before.Add((await GetOkAsync($"{followers[i].Path}/subscriptions/{subs[i]}/outcomes", followers[i].ApiKey)).GetRawText());
            before.Add(await _app.SnapshotAsync(followers[i].AccountId, followers[i].ApiKey));
        }

        var clock = _app.Clock;
        _app.KeepData = true;
        await _app.DisposeAsync();
        _app = EngineApp.With(new Dictionary<string, string?>(), _app.DataDirectory, clock);
        // Prices are not kept across a restart (positions show mark and unrealized PnL): the feed brings them back.
        await _app.SetPriceAsync("BTC-USDT", "50000");

        var after = new List<string> { (await GetOkAsync($"/v1/strategies/{strategy}", leader.ApiKey)).GetRawText() };
        for (var i = 0; i < followers.Length; i++)
        {
            after.Add((await GetOkAsync($"{followers[i].Path}/subscriptions/{subs[i]}", followers[i].ApiKey)).GetRawText());
            after.Add((await GetOkAsync($"{followers[i].Path}/subscriptions/{subs[i]}/outcomes", followers[i].ApiKey)).GetRawText());
            after.Add(await _app.SnapshotAsync(followers[i].AccountId, followers[i].ApiKey));
        }

        Assert.Equal(before, after);

        // The leader's take-profit is still linked to the followers' copies: cancelling it cancels theirs.
        (await _app.DeleteAsync($"{leader.Path}/orders/{tp}", leader.ApiKey)).Status(HttpStatusCode.OK);
        for (var i = 0; i < followers.Length; i++)
        {
            var outcomes = (await GetOkAsync($"{followers[i].Path}/subscriptions/{subs[i]}/outcomes", followers[i].ApiKey)).Items();
            Assert.Equal(["fill", "protectionPlaced", "protectionCancelled"], outcomes.Select(o => o.Str("signal")));
            var copy = await GetOkAsync($"{followers[i].Path}/orders/{outcomes[1].Str("orderId")}", followers[i].ApiKey);
            Assert.Equal("cancelled", copy.Str("status"));
        }
    }
}
