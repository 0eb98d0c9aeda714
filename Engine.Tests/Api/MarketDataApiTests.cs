using System.Net;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>Instruments, prices, the OpenAPI document and the health endpoints.</summary>
public sealed class MarketDataApiTests(EngineApp app) : IClassFixture<EngineApp>
{
    [Fact]
    public async Task GetInstruments_AccountKey_ListsContractSpecifications()
    {
        var (_, apiKey) = await app.CreateAccountAsync();

        var list = (await app.GetAsync("/v1/instruments", apiKey)).Status(HttpStatusCode.OK).Items();

        Assert.Contains(list, i => i.Str("symbol") == "ETH-USDT");
        var btc = Assert.Single(list, i => i.Str("symbol") == "BTC-USDT");
        Assert.Equal("0.1", btc.Str("tickSize"));
        Assert.Equal("0.001", btc.Str("lotStep"));
        Assert.Equal("0.001", btc.Str("minQuantity"));
        Assert.Equal("5", btc.Str("minNotional"));
        Assert.Equal(125, btc.GetProperty("maxLeverage").GetInt32());
        Assert.Equal("0.004", btc.Str("maintenanceMarginRate"));
        Assert.Equal("0.0002", btc.Str("makerFeeRate"));
        Assert.Equal("0.0005", btc.Str("takerFeeRate"));
    }

    [Fact]
    public async Task GetInstruments_OperatorKey_Returns200()
    {
        var list = (await app.GetAsync("/v1/instruments", EngineApp.OperatorKey)).Status(HttpStatusCode.OK).Items();
        Assert.True(list.Length >= 8);
    }

    [Fact]
    public async Task GetPrice_AfterOneTick_ReturnsLastIndexMarkAndTheSource()
    {
        var (_, apiKey) = await app.CreateAccountAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");

        var price = (await app.GetAsync("/v1/prices/BTC-USDT", apiKey)).Status(HttpStatusCode.OK);

        Assert.Equal("BTC-USDT", price.Str("symbol"));
        Assert.Equal("64250.5", price.Str("last"));
        Assert.Equal("64250.5", price.Str("index"));
        Assert.Equal("64250.5", price.Str("mark"));
        // One source is fewer than the two the index wants: it follows it, flagged degraded.
        Assert.True(price.GetProperty("degraded").GetBoolean());
        var source = Assert.Single(price.Items("sources"));
        Assert.Equal("test", source.Str("source"));
        Assert.Equal("64250.5", source.Str("price"));
        Assert.True(source.GetProperty("included").GetBoolean());
        Assert.Equal(app.Clock.GetUtcNow(), source.GetProperty("timestamp").GetDateTimeOffset());
    }

    [Fact]
    public async Task GetPrice_NewTick_ReplacesThePrice()
    {
        await app.SetPriceAsync("ETH-USDT", "3000");
        await app.SetPriceAsync("ETH-USDT", "3012.34");

        var price = (await app.GetAsync("/v1/prices/ETH-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);

        Assert.Equal("3012.34", price.Str("last"));
        Assert.Equal("3012.34", price.Str("index"));
        Assert.Single(price.Items("sources"));
    }

    [Fact]
    public async Task GetPrice_NoTickYet_IsDegradedWithoutPrices()
    {
        var price = (await app.GetAsync("/v1/prices/FET-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);

        Assert.Equal("FET-USDT", price.Str("symbol"));
        Assert.True(price.GetProperty("degraded").GetBoolean());
        foreach (var field in new[] { "last", "index", "mark", "timestamp" })
            Assert.Equal(System.Text.Json.JsonValueKind.Null, price.GetProperty(field).ValueKind);
        Assert.Empty(price.Items("sources"));
    }

    [Theory]
    [InlineData("DOGE-USDT")]
    [InlineData("btc-usdt")]
    public async Task GetPrice_UnknownSymbol_Returns404NotFound(string symbol)
    {
        (await app.GetAsync($"/v1/prices/{symbol}", EngineApp.OperatorKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task OpenApi_Document_DescribesEveryV1Endpoint()
    {
        var doc = (await app.GetAsync("/openapi/v1.json", null)).Status(HttpStatusCode.OK);

        var paths = doc.GetProperty("paths");
        var expected = new (string Path, string Method)[]
        {
            ("/v1/accounts", "post"),
            ("/v1/accounts/{accountId}/deposits", "post"),
            ("/v1/prices", "post"),
            ("/v1/instruments", "get"),
            ("/v1/prices/{symbol}", "get"),
            ("/v1/accounts/{accountId}", "get"),
            ("/v1/accounts/{accountId}/withdrawals", "post"),
            ("/v1/accounts/{accountId}/buckets", "post"),
            ("/v1/accounts/{accountId}/buckets", "get"),
            ("/v1/accounts/{accountId}/buckets/{bucketId}", "get"),
            ("/v1/accounts/{accountId}/buckets/{bucketId}/transfers", "post"),
            ("/v1/accounts/{accountId}/buckets/{bucketId}/leverage", "put"),
            ("/v1/accounts/{accountId}/orders", "post"),
            ("/v1/accounts/{accountId}/orders", "get"),
            ("/v1/accounts/{accountId}/orders", "delete"),
            ("/v1/accounts/{accountId}/order-lists", "post"),
            ("/v1/accounts/{accountId}/orders/{orderId}", "get"),
            ("/v1/accounts/{accountId}/orders/{orderId}", "patch"),
            ("/v1/accounts/{accountId}/orders/{orderId}", "delete"),
            ("/v1/accounts/{accountId}/positions", "get"),
            ("/v1/accounts/{accountId}/buckets/{bucketId}/positions/{symbol}/close", "post"),
            ("/v1/accounts/{accountId}/fills", "get"),
            ("/v1/accounts/{accountId}/events", "get"),
        };
        foreach (var (path, method) in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            Assert.True(item.TryGetProperty(method, out _), $"{method} {path} is missing from the OpenAPI document");
        }

        var query = paths.GetProperty("/v1/accounts/{accountId}/orders").GetProperty("get").GetProperty("parameters").Items().Select(p => p.Str("name")).ToArray();
        Assert.Contains("status", query);
        Assert.Contains("symbol", query);
        Assert.Contains("bucketId", query);
    }

    [Fact]
    public async Task OpenApi_Decimals_AreDescribedAsStrings()
    {
        var doc = (await app.GetAsync("/openapi/v1.json", null)).Status(HttpStatusCode.OK);
        var schemas = doc.GetProperty("components").GetProperty("schemas");

        foreach (var (schema, property) in new[]
                 {
                     ("OrderResponse", "quantity"), ("OrderResponse", "price"), ("OrderRequestBody", "quantity"),
                     ("AccountResponse", "walletBalance"), ("PositionResponse", "liquidationPrice"), ("AmountRequest", "amount"),
                 })
        {
            var type = schemas.GetProperty(schema).GetProperty("properties").GetProperty(property).GetProperty("type");
            var types = type.ValueKind == JsonValueKind.Array ? type.Items().Select(t => t.GetString() ?? "").ToArray() : [type.GetString() ?? ""];
            Assert.True(types.Contains("string") && !types.Contains("number"), $"{schema}.{property} is described as {type.GetRawText()}");
        }

        var side = schemas.GetProperty("OrderSide").GetProperty("enum").Items().Select(e => e.GetString() ?? "").ToArray();
        Assert.Equal(["buy", "sell"], side);
    }

    [Fact]
    public async Task OpenApi_OptionalRequestMembers_AreNotRequired()
    {
        var doc = (await app.GetAsync("/openapi/v1.json", null)).Status(HttpStatusCode.OK);
        var schemas = doc.GetProperty("components").GetProperty("schemas");

        string[] Required(string schema) => schemas.GetProperty(schema).TryGetProperty("required", out var r) ? r.Items().Select(x => x.GetString() ?? "").ToArray() : [];

        Assert.DoesNotContain("clientOrderId", Required("AmountRequest"));
        Assert.DoesNotContain("clientOrderId", Required("CreateAccountRequest"));
        Assert.DoesNotContain("clientOrderId", Required("TransferRequest"));
        Assert.DoesNotContain("timestamp", Required("TickRequest"));
        Assert.Empty(Required("AmendOrderRequest"));
        Assert.Empty(Required("ExitBody"));
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheApiKeyHeader()
    {
        var doc = (await app.GetAsync("/openapi/v1.json", null)).Status(HttpStatusCode.OK);

        var scheme = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("X-Api-Key");
        Assert.Equal("apiKey", scheme.Str("type"));
        Assert.Equal("header", scheme.Str("in"));
        Assert.Equal("X-Api-Key", scheme.Str("name"));
        Assert.Contains(doc.Items("security"), r => r.TryGetProperty("X-Api-Key", out _));
    }

    [Fact]
    public async Task HealthLive_NoKey_Returns200()
    {
        var body = (await app.GetAsync("/health/live", null)).Status(HttpStatusCode.OK);
        Assert.Equal("live", body.Str("status"));
    }

    [Fact]
    public async Task HealthReady_EngineStarted_Returns200Ready()
    {
        var body = (await app.GetAsync("/health/ready", null)).Status(HttpStatusCode.OK);
        Assert.Equal("ready", body.Str("status"));
    }

    [Fact]
    public async Task UnknownPath_Returns404Problem()
    {
        (await app.GetAsync("/v1/nothing-here", EngineApp.OperatorKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }
}
