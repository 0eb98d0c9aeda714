using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>
/// Orders the engine refuses: malformed and invalid input (400), business rejections (422) and
/// client order id conflicts (409). Every refusal leaves the account exactly as it was.
/// </summary>
public sealed class OrderRejectionApiTests(EngineApp app) : IClassFixture<EngineApp>, IAsyncLifetime
{
    private readonly EngineApp _app = app;

    public async Task InitializeAsync()
    {
        // BTC, SOL and ARB are priced; FET never is (the no_price cases rely on it).
        await _app.SetPriceAsync("BTC-USDT", "64250.5");
        await _app.SetPriceAsync("SOL-USDT", "100");
        await _app.SetPriceAsync("ARB-USDT", "1");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task AssertRejectedAsync(Trader t, string body, HttpStatusCode status, string code)
    {
        var before = await _app.SnapshotAsync(t.AccountId, t.ApiKey);

        (await _app.PostAsync($"{t.Path}/orders", body, t.ApiKey)).Problem(status, code);

        Assert.Equal(before, await _app.SnapshotAsync(t.AccountId, t.ApiKey));
    }

    [Theory]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.01\"")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.0")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"bu")]
    [InlineData("{\"symbol\":\"BTC-USDT\",")]
    [InlineData("{\"symbol\":\"BTC-USDT\",}")]
    [InlineData("{'symbol':'BTC-USDT'}")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("")]
    public async Task PlaceOrder_MalformedJson_Returns400MalformedJson(string body)
    {
        var t = await _app.CreateTraderAsync();
        await AssertRejectedAsync(t, body, HttpStatusCode.BadRequest, "malformed_json");
    }

    [Theory]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":true}", "invalid_quantity")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":[1]}", "invalid_quantity")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"lots\"}", "invalid_quantity")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"up\",\"type\":\"market\",\"quantity\":\"0.01\"}", "invalid_side")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":0,\"type\":\"market\",\"quantity\":\"0.01\"}", "invalid_side")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"BUY!\",\"type\":\"market\",\"quantity\":\"0.01\"}", "invalid_side")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"moon\",\"quantity\":\"0.01\"}", "invalid_type")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000\",\"timeInForce\":\"forever\"}", "invalid_time_in_force")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"0.01\",\"triggerPrice\":\"70000\",\"triggerBy\":\"vibes\"}", "invalid_trigger_by")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.01\",\"reduceOnly\":\"yes\"}", "invalid_reduce_only")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000\",\"timeInForce\":\"gtd\",\"expireAt\":\"soon\"}", "invalid_expire_at")]
    [InlineData("{\"symbol\":42,\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.01\"}", "invalid_symbol")]
    [InlineData("{\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.01\"}", "unknown_symbol")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"type\":\"market\",\"quantity\":\"0.01\"}", "invalid_side")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"quantity\":\"0.01\"}", "invalid_type")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\"}", "invalid_quantity")]
    public async Task PlaceOrder_WrongTypeOrMissingField_Returns400WithFieldCode(string body, string code)
    {
        var t = await _app.CreateTraderAsync();
        await AssertRejectedAsync(t, body, HttpStatusCode.BadRequest, code);
    }

    [Theory]
    [InlineData("\"-1\"", "invalid_quantity")]
    [InlineData("\"0\"", "invalid_quantity")]
    [InlineData("\"-0.001\"", "invalid_quantity")]
    [InlineData("-0.001", "invalid_quantity")]
    [InlineData("0", "invalid_quantity")]
    [InlineData("\"0.0005\"", "invalid_lot_size")]
    [InlineData("\"0.0015\"", "invalid_lot_size")]
    [InlineData("\"0.0010000001\"", "invalid_lot_size")]
    [InlineData("\"1e400\"", "invalid_quantity")]
    [InlineData("1e400", "invalid_quantity")]
    [InlineData("99999999999999999999999999999", "invalid_quantity")]
    [InlineData("\"99999999999999999999999999999\"", "invalid_quantity")]
    [InlineData("\"1000000000000\"", "invalid_quantity")]
    public async Task PlaceOrder_BadQuantity_Returns400WithCode(string quantity, string code)
    {
        var t = await _app.CreateTraderAsync();
        await AssertRejectedAsync(t, $"{{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":{quantity}}}", HttpStatusCode.BadRequest, code);
    }

    [Theory]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000.05\"}", "invalid_tick_size")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"0.01\",\"triggerPrice\":\"70000.01\"}", "invalid_tick_size")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stopLimit\",\"quantity\":\"0.01\",\"triggerPrice\":\"70000\",\"price\":\"70000.001\"}", "invalid_tick_size")]
    [InlineData("{\"symbol\":\"SOL-USDT\",\"side\":\"sell\",\"type\":\"trailingStop\",\"quantity\":\"1\",\"callbackAmount\":\"0.005\"}", "invalid_tick_size")]
    [InlineData("{\"symbol\":\"SOL-USDT\",\"side\":\"sell\",\"type\":\"trailingStop\",\"quantity\":\"1\",\"callbackRate\":\"0.01\",\"activationPrice\":\"105.001\"}", "invalid_tick_size")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"1000000000000\"}", "invalid_price")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":1e400}", "invalid_price")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"0\"}", "invalid_price")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"-64000\"}", "invalid_price")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\"}", "invalid_price")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.01\",\"price\":\"64000\"}", "invalid_price")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"0.01\"}", "invalid_trigger_price")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"0.01\",\"triggerPrice\":\"1000000000000\"}", "invalid_trigger_price")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000\",\"triggerPrice\":\"61000\"}", "invalid_trigger_price")]
    [InlineData("{\"symbol\":\"SOL-USDT\",\"side\":\"sell\",\"type\":\"trailingStop\",\"quantity\":\"1\"}", "invalid_callback")]
    [InlineData("{\"symbol\":\"SOL-USDT\",\"side\":\"sell\",\"type\":\"trailingStop\",\"quantity\":\"1\",\"callbackRate\":\"0.01\",\"callbackAmount\":\"1\"}", "invalid_callback")]
    [InlineData("{\"symbol\":\"SOL-USDT\",\"side\":\"sell\",\"type\":\"trailingStop\",\"quantity\":\"1\",\"callbackRate\":\"0.5\"}", "invalid_callback")]
    [InlineData("{\"symbol\":\"SOL-USDT\",\"side\":\"sell\",\"type\":\"trailingStop\",\"quantity\":\"1\",\"callbackRate\":\"0\"}", "invalid_callback")]
    [InlineData("{\"symbol\":\"SOL-USDT\",\"side\":\"sell\",\"type\":\"market\",\"quantity\":\"1\",\"callbackRate\":\"0.01\"}", "invalid_callback")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000\",\"timeInForce\":\"gtd\"}", "invalid_expire_at")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000\",\"expireAt\":\"2030-01-01T00:00:00Z\"}", "invalid_expire_at")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000\",\"timeInForce\":\"gtd\",\"expireAt\":\"2020-01-01T00:00:00Z\"}", "invalid_expire_at")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.01\",\"closePosition\":true}", "invalid_close_position")]
    [InlineData("{\"symbol\":\"ARB-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.1\"}", "notional_below_minimum")]
    public async Task PlaceOrder_InvalidPriceOrCombination_Returns400WithCode(string body, string code)
    {
        var t = await _app.CreateTraderAsync();
        await AssertRejectedAsync(t, body, HttpStatusCode.BadRequest, code);
    }

    [Theory]
    [InlineData("DOGE-USDT")]
    [InlineData("btc-usdt")]
    [InlineData("")]
    [InlineData("BTC-USDT ")]
    public async Task PlaceOrder_UnknownSymbol_Returns400UnknownSymbol(string symbol)
    {
        var t = await _app.CreateTraderAsync();
        var body = JsonSerializer.Serialize(new { symbol, side = "buy", type = "market", quantity = "0.01" }, EngineApp.JsonOptions);
        await AssertRejectedAsync(t, body, HttpStatusCode.BadRequest, "unknown_symbol");
    }

    [Fact]
    public async Task PlaceOrder_UnknownBucket_Returns404AndChangesNothing()
    {
        var t = await _app.CreateTraderAsync();
        var body = JsonSerializer.Serialize(new { bucketId = t.AccountId + "-b9", symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" }, EngineApp.JsonOptions);
        await AssertRejectedAsync(t, body, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task PlaceOrder_ClientOrderIdTooLong_Returns400()
    {
        var t = await _app.CreateTraderAsync();
        var body = JsonSerializer.Serialize(new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01", clientOrderId = new string('c', 65) }, EngineApp.JsonOptions);
        await AssertRejectedAsync(t, body, HttpStatusCode.BadRequest, "invalid_idempotency_key");
    }

    [Fact]
    public async Task PlaceOrder_MoreThanTheBucketCanMargin_Returns422InsufficientMarginAndChangesNothing()
    {
        var t = await _app.CreateTraderAsync(wallet: "10000", bucket: "100");
        // 0.02 × 64250.5 / 10 = 128.5 of margin; the bucket holds 100.
        await AssertRejectedAsync(t, "{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.02\"}",
            HttpStatusCode.UnprocessableEntity, "insufficient_margin");
    }

    [Fact]
    public async Task PlaceOrder_MarketableLimitBeyondMargin_Returns422InsufficientMargin()
    {
        var t = await _app.CreateTraderAsync(wallet: "10000", bucket: "100");
        await AssertRejectedAsync(t, "{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.02\",\"price\":\"65000\"}",
            HttpStatusCode.UnprocessableEntity, "insufficient_margin");
    }

    [Fact]
    public async Task PlaceOrder_InsufficientMargin_IsRecordedAsARejectionEvent()
    {
        var t = await _app.CreateTraderAsync(wallet: "10000", bucket: "100");

        (await _app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.02" }, t.ApiKey))
            .Problem(HttpStatusCode.UnprocessableEntity, "insufficient_margin");

        var events = (await _app.GetAsync($"{t.Path}/events", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        var rejected = Assert.Single(events, e => e.Str("type") == "commandRejected");
        Assert.Equal("insufficient_margin", rejected.Str("code"));
        Assert.Equal("placeOrder", rejected.Str("command"));
    }

    [Theory]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"sell\",\"type\":\"market\",\"quantity\":\"0.01\",\"reduceOnly\":true}")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"sell\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"70000\",\"reduceOnly\":true}")]
    public async Task PlaceOrder_ReduceOnlyWithoutPosition_Returns422ReduceOnlyWouldIncrease(string body)
    {
        var t = await _app.CreateTraderAsync();
        await AssertRejectedAsync(t, body, HttpStatusCode.UnprocessableEntity, "reduce_only_would_increase");
    }

    [Fact]
    public async Task PlaceOrder_ReduceOnlySameSideAsPosition_Returns422ReduceOnlyWouldIncrease()
    {
        var t = await _app.CreateTraderAsync();
        (await _app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" }, t.ApiKey)).Status(HttpStatusCode.Created);
        await AssertRejectedAsync(t, "{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.01\",\"reduceOnly\":true}",
            HttpStatusCode.UnprocessableEntity, "reduce_only_would_increase");
    }

    [Fact]
    public async Task PlaceOrder_StopLossBeyondLiquidation_Returns422StopBeyondLiquidation()
    {
        var t = await _app.CreateTraderAsync();
        (await _app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" }, t.ApiKey)).Status(HttpStatusCode.Created);
        var position = Assert.Single((await _app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Equal("58057.7", position.Str("liquidationPrice"));

        await AssertRejectedAsync(t, "{\"symbol\":\"BTC-USDT\",\"side\":\"sell\",\"type\":\"stop\",\"quantity\":\"0.01\",\"triggerPrice\":\"58000\"}",
            HttpStatusCode.UnprocessableEntity, "stop_beyond_liquidation");
        await AssertRejectedAsync(t, "{\"symbol\":\"BTC-USDT\",\"side\":\"sell\",\"type\":\"stop\",\"triggerPrice\":\"58057.7\",\"closePosition\":true}",
            HttpStatusCode.UnprocessableEntity, "stop_beyond_liquidation");
    }

    [Theory]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"0.01\",\"triggerPrice\":\"64000\"}")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"0.01\",\"triggerPrice\":\"64250.5\"}")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"sell\",\"type\":\"stop\",\"quantity\":\"0.01\",\"triggerPrice\":\"65000\"}")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"sell\",\"type\":\"takeProfit\",\"quantity\":\"0.01\",\"triggerPrice\":\"64000\"}")]
    [InlineData("{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stopLimit\",\"quantity\":\"0.01\",\"triggerPrice\":\"64000\",\"price\":\"64000\"}")]
    public async Task PlaceOrder_TriggerAlreadyReached_Returns422WouldImmediatelyTrigger(string body)
    {
        var t = await _app.CreateTraderAsync();
        await AssertRejectedAsync(t, body, HttpStatusCode.UnprocessableEntity, "would_immediately_trigger");
    }

    [Theory]
    [InlineData("{\"symbol\":\"FET-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"10\"}")]
    [InlineData("{\"symbol\":\"FET-USDT\",\"side\":\"sell\",\"type\":\"trailingStop\",\"quantity\":\"10\",\"callbackRate\":\"0.01\"}")]
    public async Task PlaceOrder_SymbolNeverPriced_Returns422NoPrice(string body)
    {
        var t = await _app.CreateTraderAsync();
        await AssertRejectedAsync(t, body, HttpStatusCode.UnprocessableEntity, "no_price");
    }

    [Fact]
    public async Task PlaceOrder_SameClientOrderIdAndBody_ReturnsTheOriginalOrderAndCreatesNothing()
    {
        var t = await _app.CreateTraderAsync();
        var body = new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000", clientOrderId = "c-1" };
        var first = (await _app.PostAsync($"{t.Path}/orders", body, t.ApiKey)).Status(HttpStatusCode.Created);
        var before = await _app.SnapshotAsync(t.AccountId, t.ApiKey);

        var second = (await _app.PostAsync($"{t.Path}/orders", body, t.ApiKey)).Status(HttpStatusCode.Created);

        Assert.Equal(first.Str("orderId"), second.Str("orderId"));
        Assert.Equal("c-1", second.Str("clientOrderId"));
        Assert.Equal(before, await _app.SnapshotAsync(t.AccountId, t.ApiKey));
        var events = (await _app.GetAsync($"{t.Path}/events", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Single(events, e => e.Str("type") == "orderAccepted");
    }

    [Fact]
    public async Task PlaceOrder_SameClientOrderIdOtherBody_Returns409DuplicateAndChangesNothing()
    {
        var t = await _app.CreateTraderAsync();
        (await _app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000", clientOrderId = "c-2" }, t.ApiKey))
            .Status(HttpStatusCode.Created);

        await AssertRejectedAsync(t, "{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.02\",\"price\":\"60000\",\"clientOrderId\":\"c-2\"}",
            HttpStatusCode.Conflict, "duplicate_client_order_id");
    }

    [Fact]
    public async Task PlaceOrder_SameIdempotencyKeyHeader_ReturnsTheOriginalOrder()
    {
        var t = await _app.CreateTraderAsync();
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "order-key-1" };
        var body = new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" };

        var first = (await _app.PostAsync($"{t.Path}/orders", body, t.ApiKey, key)).Status(HttpStatusCode.Created);
        var second = (await _app.PostAsync($"{t.Path}/orders", body, t.ApiKey, key)).Status(HttpStatusCode.Created);

        Assert.Equal(first.Str("orderId"), second.Str("orderId"));
        var fills = (await _app.GetAsync($"{t.Path}/fills", t.ApiKey)).Status(HttpStatusCode.OK).Items();
        Assert.Single(fills);
        var position = Assert.Single((await _app.GetAsync($"{t.Path}/positions", t.ApiKey)).Status(HttpStatusCode.OK).Items());
        Assert.Equal("0.01", position.Str("quantity"));

        (await _app.PostAsync($"{t.Path}/orders", body with { quantity = "0.02" }, t.ApiKey, key)).Problem(HttpStatusCode.Conflict, "duplicate_client_order_id");
    }

    [Fact]
    public async Task PlaceOrder_RejectedThenRetriedWithSameClientOrderId_IsPlacedOnRetry()
    {
        var t = await _app.CreateTraderAsync(wallet: "10000", bucket: "100");
        var body = new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.02", clientOrderId = "retry-1" };
        (await _app.PostAsync($"{t.Path}/orders", body, t.ApiKey)).Problem(HttpStatusCode.UnprocessableEntity, "insufficient_margin");

        await _app.TransferInAsync(t.AccountId, t.ApiKey, "1000", t.BucketId);
        var placed = (await _app.PostAsync($"{t.Path}/orders", body, t.ApiKey)).Status(HttpStatusCode.Created);

        Assert.Equal("filled", placed.Str("status"));
    }
}
