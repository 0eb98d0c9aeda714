using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Engine.Tests.Api;

/// <summary>The account's event log: as a JSON list after a sequence number, and as a live server-sent event stream.</summary>
public sealed class EventsApiTests(EngineApp app) : IClassFixture<EngineApp>
{
    private static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task GetEvents_NewTrader_ListsItsEventsInOrder()
    {
        var t = await app.CreateTraderAsync(wallet: "10000", bucket: "5000");

        var events = (await app.GetAsync($"{t.Path}/events", t.ApiKey)).Status(HttpStatusCode.OK).Items();

        Assert.Equal(["accountOpened", "fundsDeposited", "fundsTransferred"], events.Select(e => e.Str("type")).ToArray());
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.GetProperty("sequence").GetInt64()).ToArray());
        Assert.All(events, e => Assert.Equal(t.AccountId, e.Str("accountId")));
        Assert.All(events, e => Assert.Equal(app.Clock.GetUtcNow(), e.GetProperty("timestamp").GetDateTimeOffset()));
        Assert.Equal("10000", events[1].Str("amount"));
        Assert.Equal("in", events[2].Str("direction"));
        Assert.False(events[0].TryGetProperty("apiKeyHash", out _));
    }

    [Fact]
    public async Task GetEvents_After_ReturnsOnlyLaterEvents()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var orderId = (await app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" }, t.ApiKey))
            .Status(HttpStatusCode.Created).Str("orderId");

        var events = (await app.GetAsync($"{t.Path}/events?after=3", t.ApiKey)).Status(HttpStatusCode.OK).Items();

        Assert.Equal(["orderAccepted", "orderFilled"], events.Select(e => e.Str("type")).ToArray());
        Assert.Equal(4, events[0].GetProperty("sequence").GetInt64());
        Assert.Equal(orderId, events[0].GetProperty("order").Str("orderId"));
        Assert.Equal(orderId, events[1].Str("orderId"));
        Assert.Equal("64250.5", events[1].Str("price"));
        Assert.False(string.IsNullOrEmpty(events[1].Str("fillId")));

        Assert.Empty((await app.GetAsync($"{t.Path}/events?after=5", t.ApiKey)).Status(HttpStatusCode.OK).Items());
    }

    [Theory]
    [InlineData("?after=-1", "invalid_after")]
    [InlineData("?after=x", "invalid_request")]
    public async Task GetEvents_InvalidAfter_Returns400(string query, string code)
    {
        var t = await app.CreateTraderAsync();
        (await app.GetAsync($"{t.Path}/events{query}", t.ApiKey)).Problem(HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task GetEvents_CancelledOrder_ShowsTheReason()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        var orderId = (await app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "limit", quantity = "0.01", price = "60000" }, t.ApiKey))
            .Status(HttpStatusCode.Created).Str("orderId");
        (await app.DeleteAsync($"{t.Path}/orders/{orderId}", t.ApiKey)).Status(HttpStatusCode.OK);

        var events = (await app.GetAsync($"{t.Path}/events?after=4", t.ApiKey)).Status(HttpStatusCode.OK).Items();

        var cancelled = Assert.Single(events);
        Assert.Equal("orderCancelled", cancelled.Str("type"));
        Assert.Equal(orderId, cancelled.Str("orderId"));
        Assert.Equal("user", cancelled.Str("reason"));
    }

    [Fact]
    public async Task EventStream_AcceptEventStream_SendsHistoryThenLiveEvents()
    {
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "64250.5");
        using var timeout = new CancellationTokenSource(StreamTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{t.Path}/events?after=0");
        request.Headers.Add("X-Api-Key", t.ApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        using var response = await app.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        var reader = new SseReader(stream);

        var history = new List<SseEvent>();
        for (var i = 0; i < 3; i++) history.Add(await reader.NextAsync(timeout.Token));
        Assert.Equal(["accountOpened", "fundsDeposited", "fundsTransferred"], history.Select(e => e.Event ?? "").ToArray());
        Assert.Equal(["1", "2", "3"], history.Select(e => e.Id ?? "").ToArray());
        Assert.Equal("fundsDeposited", history[1].Data.Str("type"));
        Assert.Equal(2, history[1].Data.GetProperty("sequence").GetInt64());

        // The stream is open: an order placed now arrives live.
        var orderId = (await app.PostAsync($"{t.Path}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity = "0.01" }, t.ApiKey))
            .Status(HttpStatusCode.Created).Str("orderId");

        var accepted = await reader.NextAsync(timeout.Token);
        Assert.Equal("orderAccepted", accepted.Event);
        Assert.Equal("4", accepted.Id);
        Assert.Equal(orderId, accepted.Data.GetProperty("order").Str("orderId"));
        var filled = await reader.NextAsync(timeout.Token);
        Assert.Equal("orderFilled", filled.Event);
        Assert.Equal(orderId, filled.Data.Str("orderId"));
    }

    [Fact]
    public async Task GetEvents_IdempotentRequests_ShowNoStoredResponsesAndNoApiKey()
    {
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "evt-" + Guid.NewGuid().ToString("N") };
        var created = (await app.PostAsync("/v1/accounts", new { name = "idem" }, EngineApp.OperatorKey, key)).Status(HttpStatusCode.Created);
        var (accountId, apiKey) = (created.Str("accountId"), created.Str("apiKey"));
        var depositKey = new Dictionary<string, string> { ["Idempotency-Key"] = "dep-" + Guid.NewGuid().ToString("N") };
        (await app.PostAsync($"/v1/accounts/{accountId}/deposits", new { amount = "10" }, EngineApp.OperatorKey, depositKey)).Status(HttpStatusCode.OK);

        var answer = (await app.GetAsync($"/v1/accounts/{accountId}/events", apiKey)).Status(HttpStatusCode.OK);

        Assert.Equal(["accountOpened", "fundsDeposited"], answer.Items().Select(e => e.Str("type")).ToArray());
        Assert.DoesNotContain(apiKey, answer.GetRawText(), StringComparison.Ordinal);

        using var timeout = new CancellationTokenSource(StreamTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/accounts/{accountId}/events");
        request.Headers.Add("X-Api-Key", apiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await app.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        var reader = new SseReader(stream);
        Assert.Equal("accountOpened", (await reader.NextAsync(timeout.Token)).Event);
        Assert.Equal("fundsDeposited", (await reader.NextAsync(timeout.Token)).Event);
    }

    [Fact]
    public async Task EventStream_After_SkipsEarlierEvents()
    {
        var t = await app.CreateTraderAsync();
        using var timeout = new CancellationTokenSource(StreamTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{t.Path}/events?after=2");
        request.Headers.Add("X-Api-Key", t.ApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        using var response = await app.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        var reader = new SseReader(stream);

        var first = await reader.NextAsync(timeout.Token);
        Assert.Equal("3", first.Id);
        Assert.Equal("fundsTransferred", first.Event);
    }

    [Fact]
    public async Task EventStream_AnotherAccountsKey_Returns404()
    {
        var owner = await app.CreateTraderAsync();
        var other = await app.CreateTraderAsync();
        var answer = await app.GetAsync($"{owner.Path}/events", other.ApiKey, new Dictionary<string, string> { ["Accept"] = "text/event-stream" });
        answer.Problem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task EventStream_OperatorKeyUnknownAccount_Returns404Problem()
    {
        var answer = await app.GetAsync("/v1/accounts/a00000000000000ff/events", EngineApp.OperatorKey, new Dictionary<string, string> { ["Accept"] = "text/event-stream" });
        answer.Problem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal("account not found", answer.Body.Str("detail"));
    }

    private sealed record SseEvent(string? Id, string? Event, JsonElement Data);

    /// <summary>Reads server-sent events (id, event, data lines, a blank line between events).</summary>
    private sealed class SseReader(Stream stream)
    {
        private readonly StreamReader _reader = new(stream);

        public async Task<SseEvent> NextAsync(CancellationToken ct)
        {
            string? id = null, name = null, data = null;
            while (true)
            {
                var line = await _reader.ReadLineAsync(ct) ?? throw new Xunit.Sdk.XunitException("the event stream ended");
                if (line.Length == 0)
                {
                    if (data is null) continue;
                    return new SseEvent(id, name, JsonDocument.Parse(data).RootElement.Clone());
                }

                if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
            }
        }
    }
}
