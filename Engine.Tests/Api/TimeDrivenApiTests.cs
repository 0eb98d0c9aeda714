using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>
/// Behaviour driven by the engine clock. Its own engine: advancing the clock moves the mark
/// (a time-weighted mean), which tests of other classes expect to stand still.
/// </summary>
public sealed class TimeDrivenApiTests(EngineApp app) : IClassFixture<EngineApp>
{
    /// <summary>The shard loop is asynchronous: poll a few times rather than sleep.</summary>
    private async Task<JsonElement> PollOrderAsync(Trader t, string orderId, Func<JsonElement, bool> until)
    {
        JsonElement order = default;
        for (var i = 0; i < 100; i++)
        {
            order = (await app.GetAsync($"{t.Path}/orders/{orderId}", t.ApiKey)).Status(HttpStatusCode.OK);
            if (until(order)) return order;
            await Task.Delay(10);
        }

        return order;
    }

    [Fact]
    public async Task LimitGtd_ClockPassesExpireAt_OrderExpires()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var expireAt = app.Clock.GetUtcNow().AddSeconds(5);
        var orderId = (await app.PostAsync($"{t.Path}/orders",
                new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "64000", timeInForce = "gtd", expireAt }, t.ApiKey))
            .Status(HttpStatusCode.Created).Str("orderId");

        // Advance runs the timer callbacks before it returns, so the shard has the time work queued
        // ahead of this read: one read is enough to see that nothing expired yet.
        app.Clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal("open", (await app.GetAsync($"{t.Path}/orders/{orderId}", t.ApiKey)).Status(HttpStatusCode.OK).Str("status"));

        app.Clock.Advance(TimeSpan.FromSeconds(1.5));
        var expired = await PollOrderAsync(t, orderId, o => o.Str("status") == "expired");
        Assert.Equal("expired", expired.Str("status"));
        Assert.Equal("gtd_expired", expired.Str("reason"));
        var updatedAt = expired.GetProperty("updatedAt").GetDateTimeOffset();
        Assert.InRange(updatedAt, expireAt, app.Clock.GetUtcNow());
        Assert.Empty((await app.GetAsync($"{t.Path}/orders", t.ApiKey)).Status(HttpStatusCode.OK).Items());

        // Expired means gone from the book: the price reaching it fills nothing.
        await app.SetPriceAsync("BTC-USDT", "63000");
        Assert.Equal("expired", (await app.GetAsync($"{t.Path}/orders/{orderId}", t.ApiKey)).Status(HttpStatusCode.OK).Str("status"));
        Assert.Empty((await app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
    }

    [Fact]
    public async Task StopGtd_ClockPassesExpireAt_UntriggeredOrderExpires()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("ETH-USDT", "3000");
        var expireAt = app.Clock.GetUtcNow().AddSeconds(2);
        var orderId = (await app.PostAsync($"{t.Path}/orders",
                new { symbol = "ETH-USDT", side = "buy", type = "stop", quantity = "0.1", triggerPrice = "3100", timeInForce = "gtd", expireAt }, t.ApiKey))
            .Status(HttpStatusCode.Created).Str("orderId");
        Assert.Equal("untriggered", (await app.GetAsync($"{t.Path}/orders/{orderId}", t.ApiKey)).Status(HttpStatusCode.OK).Str("status"));

        app.Clock.Advance(TimeSpan.FromSeconds(3));

        var expired = await PollOrderAsync(t, orderId, o => o.Str("status") == "expired");
        Assert.Equal("expired", expired.Str("status"));
        Assert.Equal("gtd_expired", expired.Str("reason"));
    }

    [Fact]
    public async Task LimitGtd_ExpireAtBeforeEngineClock_Returns400InvalidExpireAt()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var before = await app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await app.PostAsync($"{t.Path}/orders",
                new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "64000", timeInForce = "gtd", expireAt = app.Clock.GetUtcNow().AddSeconds(-1) },
                t.ApiKey))
            .Problem(HttpStatusCode.BadRequest, "invalid_expire_at");

        Assert.Equal(before, await app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Fact]
    public async Task PostPrices_ClockAdvanced_TicksAreStampedWithTheNewEngineTime()
    {
        app.Clock.Advance(TimeSpan.FromSeconds(30));
        await app.SetPriceAsync("SOL-USDT", "150");

        var price = (await app.GetAsync("/v1/prices/SOL-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);

        var source = Assert.Single(price.Items("sources"));
        Assert.Equal(app.Clock.GetUtcNow(), source.GetProperty("timestamp").GetDateTimeOffset());
        Assert.True(source.GetProperty("included").GetBoolean());
        Assert.Equal("150", price.Str("index"));
    }

    [Fact]
    public async Task GetPrice_SourceSilentPastStaleness_IsNoLongerIncluded()
    {
        await app.SetPriceAsync("OP-USDT", "1.5");

        // Sources older than the 10 s staleness window leave the index (the engine timer re-evaluates).
        app.Clock.Advance(TimeSpan.FromSeconds(11));

        JsonElement price = default;
        for (var i = 0; i < 100; i++)
        {
            price = (await app.GetAsync("/v1/prices/OP-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
            if (!price.Items("sources")[0].GetProperty("included").GetBoolean()) break;
            await Task.Delay(10);
        }

        Assert.False(price.Items("sources")[0].GetProperty("included").GetBoolean());
        Assert.True(price.GetProperty("degraded").GetBoolean());
        Assert.Equal("1.5", price.Str("index"));
    }
}
