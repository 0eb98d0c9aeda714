using System.Net;

namespace Engine.Tests.Api;

/// <summary>
/// Keys: a missing or unknown key is 401 everywhere; an account key reaches only its own account
/// (anything else answers 404, as if it did not exist); the operator key reads accounts but does
/// not trade for them. Every refused request leaves the target account as it was.
/// </summary>
public sealed class AuthorizationApiTests(EngineApp app) : IClassFixture<EngineApp>, IAsyncLifetime
{
    private const string Order = "{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000\"}";
    private const string List = "{\"type\":\"oco\",\"legs\":[{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000\"},{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"0.01\",\"triggerPrice\":\"70000\"}]}";

    /// <summary>The victim: an account with funds, a second bucket, a position, a fill and an open order.</summary>
    private Trader _victim = null!;
    private string _order = null!;

    public async Task InitializeAsync()
    {
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        _victim = await app.CreateTraderAsync("victim");
        (await app.PostAsync($"{_victim.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" }, _victim.ApiKey)).Status(HttpStatusCode.Created);
        _order = (await app.PostAsync($"{_victim.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" }, _victim.ApiKey))
            .Status(HttpStatusCode.Created).Str("orderId");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Every route of the account section, with a body where it takes one. {a}: account, {b}: bucket, {o}: order.</summary>
    public static TheoryData<string, string, string?> AccountRoutes => new()
    {
        { "GET", "/v1/accounts/{a}", null },
        { "POST", "/v1/accounts/{a}/withdrawals", "{\"amount\":\"100\"}" },
        { "POST", "/v1/accounts/{a}/buckets", "{\"name\":\"x\",\"allocation\":\"100\"}" },
        { "GET", "/v1/accounts/{a}/buckets", null },
        { "GET", "/v1/accounts/{a}/buckets/{b}", null },
        { "POST", "/v1/accounts/{a}/buckets/{b}/transfers", "{\"direction\":\"out\",\"amount\":\"100\"}" },
        { "PUT", "/v1/accounts/{a}/buckets/{b}/leverage", "{\"symbol\":\"ETH-USDT\",\"leverage\":5}" },
        { "POST", "/v1/accounts/{a}/orders", Order },
        { "POST", "/v1/accounts/{a}/order-lists", List },
        { "GET", "/v1/accounts/{a}/orders", null },
        { "GET", "/v1/accounts/{a}/orders?status=all", null },
        { "GET", "/v1/accounts/{a}/orders/{o}", null },
        { "PATCH", "/v1/accounts/{a}/orders/{o}", "{\"price\":\"61000\"}" },
        { "DELETE", "/v1/accounts/{a}/orders/{o}", null },
        { "DELETE", "/v1/accounts/{a}/orders", null },
        { "DELETE", "/v1/accounts/{a}/orders?symbol=BTC-USDT", null },
        { "GET", "/v1/accounts/{a}/positions", null },
        { "POST", "/v1/accounts/{a}/buckets/{b}/positions/BTC-USDT/close", null },
        { "GET", "/v1/accounts/{a}/fills", null },
        { "GET", "/v1/accounts/{a}/events", null },
        { "GET", "/v1/accounts/{a}/events?after=1", null },
    };

    /// <summary>Every route of the operator and market data sections.</summary>
    public static TheoryData<string, string, string?> OtherRoutes => new()
    {
        { "POST", "/v1/accounts", "{\"name\":\"x\"}" },
        { "POST", "/v1/accounts/{a}/deposits", "{\"amount\":\"100\"}" },
        { "POST", "/v1/prices", "{\"ticks\":[{\"source\":\"test\",\"symbol\":\"BTC-USDT\",\"price\":\"1\"}]}" },
        { "GET", "/v1/instruments", null },
        { "GET", "/v1/prices/BTC-USDT", null },
    };

    public static TheoryData<string, string, string?> AllRoutes
    {
        get
        {
            var all = new TheoryData<string, string, string?>();
            foreach (var row in AccountRoutes.Concat(OtherRoutes)) all.Add((string)row[0], (string)row[1], (string?)row[2]);
            return all;
        }
    }

    private string Resolve(string template, Trader owner, string orderId) =>
        template.Replace("{a}", owner.AccountId).Replace("{b}", owner.BucketId).Replace("{o}", orderId);

    private Task<(HttpStatusCode Status, System.Text.Json.JsonElement Body)> Send(string method, string path, string? body, string? key, Dictionary<string, string>? headers = null) =>
        app.SendAsync(new HttpMethod(method), path, body, key, headers);

    private async Task AssertPricesUntouchedAsync()
    {
        var price = (await app.GetAsync("/v1/prices/BTC-USDT", EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        Assert.Equal("64250.5", price.Str("last"));
    }

    [Theory]
    [MemberData(nameof(AllRoutes))]
    public async Task AnyEndpoint_MissingKey_Returns401AndChangesNothing(string method, string template, string? body)
    {
        var before = await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey);

        (await Send(method, Resolve(template, _victim, _order), body, null)).Problem(HttpStatusCode.Unauthorized, "unauthorized");

        Assert.Equal(before, await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey));
        await AssertPricesUntouchedAsync();
    }

    [Theory]
    [MemberData(nameof(AllRoutes))]
    public async Task AnyEndpoint_UnknownKey_Returns401AndChangesNothing(string method, string template, string? body)
    {
        var before = await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey);

        (await Send(method, Resolve(template, _victim, _order), body, "ak_0000000000000000000000000000000000000000000000"))
            .Problem(HttpStatusCode.Unauthorized, "unauthorized");
        (await Send(method, Resolve(template, _victim, _order), body, EngineApp.OperatorKey + "x"))
            .Problem(HttpStatusCode.Unauthorized, "unauthorized");

        Assert.Equal(before, await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey));
        await AssertPricesUntouchedAsync();
    }

    [Theory]
    [MemberData(nameof(AccountRoutes))]
    public async Task AccountEndpoint_AnotherAccountsKey_Returns404AndChangesNothing(string method, string template, string? body)
    {
        var intruder = await app.CreateTraderAsync("intruder");
        var before = await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey);
        var intruderBefore = await app.SnapshotAsync(intruder.AccountId, intruder.ApiKey);

        (await Send(method, Resolve(template, _victim, _order), body, intruder.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey));
        Assert.Equal(intruderBefore, await app.SnapshotAsync(intruder.AccountId, intruder.ApiKey));
    }

    [Theory]
    [InlineData("GET", "/v1/accounts/{self}/orders/{o}", null)]
    [InlineData("PATCH", "/v1/accounts/{self}/orders/{o}", "{\"price\":\"61000\"}")]
    [InlineData("DELETE", "/v1/accounts/{self}/orders/{o}", null)]
    [InlineData("GET", "/v1/accounts/{self}/buckets/{b}", null)]
    [InlineData("POST", "/v1/accounts/{self}/buckets/{b}/transfers", "{\"direction\":\"in\",\"amount\":\"100\"}")]
    [InlineData("POST", "/v1/accounts/{self}/buckets/{b}/transfers", "{\"direction\":\"out\",\"amount\":\"100\"}")]
    [InlineData("PUT", "/v1/accounts/{self}/buckets/{b}/leverage", "{\"symbol\":\"ETH-USDT\",\"leverage\":5}")]
    [InlineData("POST", "/v1/accounts/{self}/buckets/{b}/positions/BTC-USDT/close", null)]
    [InlineData("POST", "/v1/accounts/{self}/orders", "{\"bucketId\":\"{b}\",\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"market\",\"quantity\":\"0.01\"}")]
    [InlineData("POST", "/v1/accounts/{self}/order-lists", "{\"type\":\"oco\",\"bucketId\":\"{b}\",\"legs\":[{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"limit\",\"quantity\":\"0.01\",\"price\":\"60000\"},{\"symbol\":\"BTC-USDT\",\"side\":\"buy\",\"type\":\"stop\",\"quantity\":\"0.01\",\"triggerPrice\":\"70000\"}]}")]
    [InlineData("DELETE", "/v1/accounts/{self}/orders?bucketId={b}", null)]
    public async Task OwnPath_AnotherAccountsOrderOrBucketId_Returns404AndChangesNothing(string method, string template, string? body)
    {
        var intruder = await app.CreateTraderAsync("intruder");
        var before = await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey);
        var intruderBefore = await app.SnapshotAsync(intruder.AccountId, intruder.ApiKey);
        var path = template.Replace("{self}", intruder.AccountId).Replace("{b}", _victim.BucketId).Replace("{o}", _order);

        (await Send(method, path, body?.Replace("{b}", _victim.BucketId), intruder.ApiKey)).Problem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey));
        Assert.Equal(intruderBefore, await app.SnapshotAsync(intruder.AccountId, intruder.ApiKey));
    }

    [Fact]
    public async Task GetOrders_FilteredByAnotherAccountsBucket_ReturnsNothing()
    {
        var intruder = await app.CreateTraderAsync("intruder");
        var orders = (await app.GetAsync($"{intruder.Path}/orders?status=all&bucketId={_victim.BucketId}", intruder.ApiKey)).Status(HttpStatusCode.OK);
        Assert.Empty(orders.Items());
    }

    [Theory]
    [InlineData("POST", "/v1/accounts/{a}/withdrawals", "{\"amount\":\"100\"}")]
    [InlineData("POST", "/v1/accounts/{a}/buckets", "{\"name\":\"x\",\"allocation\":\"100\"}")]
    [InlineData("POST", "/v1/accounts/{a}/buckets/{b}/transfers", "{\"direction\":\"out\",\"amount\":\"100\"}")]
    [InlineData("PUT", "/v1/accounts/{a}/buckets/{b}/leverage", "{\"symbol\":\"ETH-USDT\",\"leverage\":5}")]
    [InlineData("POST", "/v1/accounts/{a}/orders", Order)]
    [InlineData("POST", "/v1/accounts/{a}/order-lists", List)]
    [InlineData("PATCH", "/v1/accounts/{a}/orders/{o}", "{\"price\":\"61000\"}")]
    [InlineData("DELETE", "/v1/accounts/{a}/orders/{o}", null)]
    [InlineData("DELETE", "/v1/accounts/{a}/orders", null)]
    [InlineData("POST", "/v1/accounts/{a}/buckets/{b}/positions/BTC-USDT/close", null)]
    public async Task AccountWriteEndpoint_OperatorKey_Returns404AndChangesNothing(string method, string template, string? body)
    {
        var before = await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey);

        (await Send(method, Resolve(template, _victim, _order), body, EngineApp.OperatorKey)).Problem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await app.SnapshotAsync(_victim.AccountId, _victim.ApiKey));
    }

    [Theory]
    [InlineData("/v1/accounts/{a}")]
    [InlineData("/v1/accounts/{a}/buckets")]
    [InlineData("/v1/accounts/{a}/buckets/{b}")]
    [InlineData("/v1/accounts/{a}/orders?status=all")]
    [InlineData("/v1/accounts/{a}/orders/{o}")]
    [InlineData("/v1/accounts/{a}/positions")]
    [InlineData("/v1/accounts/{a}/fills")]
    [InlineData("/v1/accounts/{a}/events")]
    public async Task AccountReadEndpoint_OperatorKey_ReturnsSameAsOwner(string template)
    {
        var path = Resolve(template, _victim, _order);

        var asOperator = (await app.GetAsync(path, EngineApp.OperatorKey)).Status(HttpStatusCode.OK);
        var asOwner = (await app.GetAsync(path, _victim.ApiKey)).Status(HttpStatusCode.OK);

        Assert.Equal(asOwner.GetRawText(), asOperator.GetRawText());
    }

    [Fact]
    public async Task CreateAccountResponse_ApiKey_ActsOnlyOnItsOwnAccount()
    {
        var (a, aKey) = await app.CreateAccountAsync("a");
        var (b, _) = await app.CreateAccountAsync("b");

        (await app.GetAsync($"/v1/accounts/{a}", aKey)).Status(HttpStatusCode.OK);
        (await app.GetAsync($"/v1/accounts/{b}", aKey)).Problem(HttpStatusCode.NotFound, "not_found");
        (await app.GetAsync("/v1/accounts/a-does-not-exist", aKey)).Problem(HttpStatusCode.NotFound, "not_found");
    }
}
