using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>
/// The risk controls' state across a restart of the engine (a clean stop, which snapshots; the
/// journal-only path after a crash is covered by the durability tests): an engine starts on the data
/// folder and the clock of the one before, and everything the controls hold is there and acts on time.
/// </summary>
public sealed class RiskRecoveryApiTests : IAsyncLifetime
{
    private EngineApp _app = EngineApp.With(RiskEngineApp.Settings);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _app.KeepData = false;
        await _app.DisposeAsync();
        if (Directory.Exists(_app.DataDirectory)) Directory.Delete(_app.DataDirectory, recursive: true);
    }

    private async Task<string> PlaceOkAsync(Trader t, object body) =>
        (await _app.PostAsync($"{t.Path}/orders", body, t.ApiKey)).Status(HttpStatusCode.Created).Str("orderId");

    private async Task<JsonElement> GetOkAsync(string path, string key) => (await _app.GetAsync(path, key)).Status(HttpStatusCode.OK);

    /// <summary>A price, then a read on the trader's shard, so the shard has taken the price at this engine time.</summary>
    private async Task PriceAsync(Trader t, string symbol, string price)
    {
        await _app.SetPriceAsync(symbol, price);
        await GetOkAsync(t.Path, t.ApiKey);
    }

    [Fact]
    public async Task Restart_KillSwitchDeadManSwitchHaltsConfirmationAndLossLock_AllSurviveAndActOnTime()
    {
        // Given, at one moment of engine time: an account with its kill switch on, an armed dead man's
        // switch, a wick-protected stop whose confirmation runs, an operator halt, a breaker pause and
        // a bucket locked by its daily loss limit.
        var killed = await _app.CreateTraderAsync("killed");
        (await _app.PostAsync($"{killed.Path}/kill-switch", null, killed.ApiKey)).Status(HttpStatusCode.OK);

        var bot = await _app.CreateTraderAsync("bot");
        await PriceAsync(bot, "SOL-USDT", "150");
        var entry = await PlaceOkAsync(bot, new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "145" });
        var deadline = (await _app.PostAsync($"{bot.Path}/cancel-all-after", new { timeoutSeconds = 60 }, bot.ApiKey)).Status(HttpStatusCode.OK)
            .GetProperty("deadline").GetDateTimeOffset();

        var careful = await _app.CreateTraderAsync("careful");
        await PriceAsync(careful, "BTC-USDT", "60000");
        var stop = await PlaceOkAsync(careful, new { symbol = "BTC-USDT", side = "sell", type = "stop", quantity = "0.01", triggerPrice = "59500", triggerConfirmation = "PT30S" });
        await PriceAsync(careful, "BTC-USDT", "59400");
        var confirmingUntil = (await GetOkAsync($"{careful.Path}/orders/{stop}", careful.ApiKey)).GetProperty("confirmingUntil").GetDateTimeOffset();

        (await _app.PostAsync("/v1/operator/symbols/ETH-USDT/halt", null, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        await PriceAsync(bot, "XRP-USDT", "0.5");
        await PriceAsync(bot, "XRP-USDT", "0.45");

        var loser = await _app.CreateTraderAsync("loser");
        var capped = (await _app.PostAsync($"{loser.Path}/buckets", new { name = "capped", allocation = "2000", dailyLossLimit = "20" }, loser.ApiKey))
            .Status(HttpStatusCode.Created).Str("bucketId");
        await PriceAsync(loser, "BNB-USDT", "600");
        await PlaceOkAsync(loser, new { bucketId = capped, symbol = "BNB-USDT", side = "buy", type = "market", quantity = "1" });
        await PriceAsync(loser, "BNB-USDT", "579.5");

        var statuses = new Dictionary<string, string>();
        foreach (var symbol in new[] { "ETH-USDT", "XRP-USDT", "SOL-USDT" })
            statuses[symbol] = (await GetOkAsync($"/v1/symbols/{symbol}/status", EngineApp.OperatorKey)).GetRawText();
        Assert.Contains("\"halted\":true", statuses["XRP-USDT"], StringComparison.Ordinal);
        var views = new Dictionary<string, string>();
        foreach (var t in new[] { killed, bot, careful, loser }) views[t.AccountId] = await _app.SnapshotAsync(t.AccountId, t.ApiKey);
        var deadManView = (await GetOkAsync($"{bot.Path}/cancel-all-after", bot.ApiKey)).GetRawText();

        // When the engine stops and a new one starts on its data folder (same clock, no time passed).
        var clock = _app.Clock;
        _app.KeepData = true;
        await _app.DisposeAsync();
        _app = EngineApp.With(RiskEngineApp.Settings, _app.DataDirectory, clock);

        // Then everything is as it was...
        foreach (var (symbol, status) in statuses)
            Assert.Equal(status, (await GetOkAsync($"/v1/symbols/{symbol}/status", EngineApp.OperatorKey)).GetRawText());
        foreach (var t in new[] { killed, bot, careful, loser }) Assert.Equal(views[t.AccountId], await _app.SnapshotAsync(t.AccountId, t.ApiKey));
        Assert.Equal(deadManView, (await GetOkAsync($"{bot.Path}/cancel-all-after", bot.ApiKey)).GetRawText());
        Assert.Equal(confirmingUntil, (await GetOkAsync($"{careful.Path}/orders/{stop}", careful.ApiKey)).GetProperty("confirmingUntil").GetDateTimeOffset());
        var lockedBucket = await GetOkAsync($"{loser.Path}/buckets/{capped}", loser.ApiKey);
        Assert.Equal("daily_loss_limit", lockedBucket.Str("lockReason"));

        // ...the locks still refuse orders...
        (await _app.PostAsync($"{killed.Path}/orders", new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "140" }, killed.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "trading_disabled");
        (await _app.PostAsync($"{loser.Path}/orders", new { bucketId = capped, symbol = "BNB-USDT", side = "buy", type = "limit", quantity = "1", price = "570" }, loser.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "trading_disabled");

        // ...and what waits for time acts on time. Prices are not kept across a restart: the feed brings them back.
        await PriceAsync(careful, "BTC-USDT", "59300");
        await PriceAsync(bot, "SOL-USDT", "150");
        await PriceAsync(bot, "XRP-USDT", "0.46");
        _app.Clock.Advance(confirmingUntil - _app.Clock.GetUtcNow());

        var fired = await GetOkAsync($"{careful.Path}/orders/{stop}", careful.ApiKey);
        Assert.Equal(("filled", 59300m), (fired.Str("status"), fired.Dec("averageFillPrice")));
        Assert.False((await GetOkAsync("/v1/symbols/XRP-USDT/status", EngineApp.OperatorKey)).GetProperty("halted").GetBoolean());
        Assert.True((await GetOkAsync("/v1/symbols/ETH-USDT/status", EngineApp.OperatorKey)).GetProperty("halted").GetBoolean());
        Assert.Equal("open", (await GetOkAsync($"{bot.Path}/orders/{entry}", bot.ApiKey)).Str("status"));

        _app.Clock.Advance(deadline - _app.Clock.GetUtcNow());

        var cancelled = await GetOkAsync($"{bot.Path}/orders/{entry}", bot.ApiKey);
        Assert.Equal(("cancelled", "cancel_all_after"), (cancelled.Str("status"), cancelled.Str("reason")));
        (await _app.PostAsync("/v1/operator/symbols/ETH-USDT/resume", null, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        (await _app.DeleteAsync($"{killed.Path}/kill-switch", killed.ApiKey)).Status(HttpStatusCode.OK);
        await PlaceOkAsync(killed, new { symbol = "SOL-USDT", side = "buy", type = "limit", quantity = "1", price = "140" });
    }
}
