using System.Net;
using System.Text.Json;
using Engine.Api.Contracts;
using Engine.Api.Http;
using Engine.Grains;
using Engine.Silo.Runtime;
using Engine.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Engine.Tests.Postgres;

/// <summary>
/// The history endpoints on PostgreSQL, through HTTP: the shard keeps only two fills and two finished orders
/// per account in memory, and every one is still paged from the read model, oldest first.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HistoryApiTests(PostgresFixture postgres)
{
    private async Task<EngineApp> StartAsync(string test) => EngineApp.With(new Dictionary<string, string?>
    {
        ["ConnectionStrings:Engine"] = await postgres.CreateDatabaseAsync(test),
        ["Engine:History:FillsPerAccount"] = "2",
        ["Engine:History:DoneOrdersPerAccount"] = "2",
        ["Engine:Copy:OutcomesPerSubscription"] = "2",
    });

    [Fact]
    public async Task Fills_MoreThanMemoryKeeps_EveryFillPagedFromHistory()
    {
        await using var app = await StartAsync(nameof(Fills_MoreThanMemoryKeeps_EveryFillPagedFromHistory));
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "50000");
        var placed = new List<string>();
        foreach (var quantity in new[] { "0.001", "0.002", "0.003", "0.004", "0.005" })
            placed.Add((await app.PostAsync($"/v1/accounts/{t.AccountId}/orders",
                new { symbol = "BTC-USDT", side = "buy", type = "market", quantity }, t.ApiKey)).Status(HttpStatusCode.Created).Str("orderId"));

        var pages = new List<JsonElement[]>();
        string? after = null;
        do
        {
            var page = (await app.GetAsync($"/v1/accounts/{t.AccountId}/fills?limit=2{(after is null ? "" : $"&after={after}")}", t.ApiKey))
                .Status(HttpStatusCode.OK).EnumerateArray().ToArray();
            pages.Add(page);
            after = page.Length == 0 ? null : page[^1].Str("fillId");
        }
        while (after is not null);

        Assert.Equal([2, 2, 1, 0], pages.Select(p => p.Length));
        var fills = pages.SelectMany(p => p).ToArray();
        Assert.Equal(placed, fills.Select(f => f.Str("orderId")));
        Assert.Equal(["0.001", "0.002", "0.003", "0.004", "0.005"], fills.Select(f => f.Str("quantity")));
        Assert.All(fills, f => Assert.Equal(50000m, f.Dec("price")));
        Assert.All(fills, f => Assert.Equal(t.BucketId, f.Str("bucketId")));
        // Memory alone holds the last two, as the same fills.
        var id = new AccountId(t.AccountId);
        var memory = await app.Services.GetRequiredService<EngineSilo>().QueryAsync(id, g => g.FindAccount(id)!.Fills.Select(f => Views.Fill(id, f)).ToArray());
        Assert.Equal(fills[^2..].Select(f => f.GetRawText()), memory.Select(f => JsonSerializer.Serialize(f, ApiJson.Options)));
    }

    [Fact]
    public async Task Orders_StatusAll_OpenFromShardAndEveryFinishedFromHistoryInOrder()
    {
        await using var app = await StartAsync(nameof(Orders_StatusAll_OpenFromShardAndEveryFinishedFromHistoryInOrder));
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("ETH-USDT", "2000");
        var ids = new List<string>();
        async Task<string> Place(object body) =>
            (await app.PostAsync($"/v1/accounts/{t.AccountId}/orders", body, t.ApiKey)).Status(HttpStatusCode.Created).Str("orderId");
        ids.Add(await Place(new { symbol = "ETH-USDT", side = "buy", type = "market", quantity = "0.1" }));
        ids.Add(await Place(new { symbol = "ETH-USDT", side = "sell", type = "stop", quantity = "0.1", triggerPrice = "1900" }));
        ids.Add(await Place(new { symbol = "ETH-USDT", side = "buy", type = "limit", quantity = "0.1", price = "1800" }));
        (await app.DeleteAsync($"/v1/accounts/{t.AccountId}/orders/{ids[2]}", t.ApiKey)).Status(HttpStatusCode.OK);
        ids.Add(await Place(new { symbol = "ETH-USDT", side = "buy", type = "market", quantity = "0.2" }));
        ids.Add(await Place(new { symbol = "ETH-USDT", side = "sell", type = "market", quantity = "0.1", reduceOnly = true }));

        var all = (await app.GetAsync($"/v1/accounts/{t.AccountId}/orders?status=all", t.ApiKey)).Status(HttpStatusCode.OK).EnumerateArray().ToArray();
        var firstPage = (await app.GetAsync($"/v1/accounts/{t.AccountId}/orders?status=all&limit=3", t.ApiKey)).Status(HttpStatusCode.OK).EnumerateArray().ToArray();
        var secondPage = (await app.GetAsync($"/v1/accounts/{t.AccountId}/orders?status=all&limit=3&after={firstPage[^1].Str("orderId")}", t.ApiKey))
            .Status(HttpStatusCode.OK).EnumerateArray().ToArray();

        Assert.Equal(ids, all.Select(o => o.Str("orderId")));
        Assert.Equal(["filled", "untriggered", "cancelled", "filled", "filled"], all.Select(o => o.Str("status")));
        Assert.Equal("user", all[2].Str("reason"));
        Assert.Equal(ids, firstPage.Concat(secondPage).Select(o => o.Str("orderId")));
        // Each finished order reads from history exactly as the shard shows it (while the shard still has it).
        foreach (var id in ids)
        {
            var single = (await app.GetAsync($"/v1/accounts/{t.AccountId}/orders/{id}", t.ApiKey));
            if (single.Status == HttpStatusCode.OK) Assert.Equal(single.Body.GetRawText(), all.Single(o => o.Str("orderId") == id).GetRawText());
        }
    }

    [Fact]
    public async Task CopyOutcomes_MoreThanMemoryKeeps_EveryOutcomePagedFromHistory()
    {
        await using var app = await StartAsync(nameof(CopyOutcomes_MoreThanMemoryKeeps_EveryOutcomePagedFromHistory));
        var leader = await app.CreateTraderAsync("leader", wallet: "20000", bucket: "10000");
        var follower = await app.CreateTraderAsync("follower", wallet: "20000", bucket: "0");
        await app.SetPriceAsync("BTC-USDT", "50000");
        var strategy = (await app.PostAsync("/v1/strategies", new { accountId = leader.AccountId, bucketId = leader.BucketId, name = "trend" }, leader.ApiKey))
            .Status(HttpStatusCode.Created).Str("strategyId");
        var sub = (await app.PostAsync($"/v1/strategies/{strategy}/subscriptions",
                new { accountId = follower.AccountId, allocation = "5000", sizing = new { mode = "fixedRatio", ratio = "0.5" }, onInsufficientMargin = "scaleDown" },
                follower.ApiKey))
            .Status(HttpStatusCode.Created).Str("subscriptionId");
        foreach (var quantity in new[] { "0.01", "0.02", "0.03", "0.04" })
            (await app.PostAsync($"/v1/accounts/{leader.AccountId}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity }, leader.ApiKey))
                .Status(HttpStatusCode.Created);
        var path = $"/v1/accounts/{follower.AccountId}/subscriptions/{sub}/outcomes";

        var all = (await app.GetAsync(path, follower.ApiKey)).Status(HttpStatusCode.OK).EnumerateArray().ToArray();
        var first = (await app.GetAsync($"{path}?limit=3", follower.ApiKey)).Status(HttpStatusCode.OK).EnumerateArray().ToArray();
        var rest = (await app.GetAsync($"{path}?limit=3&after={first[^1].Str("signalId")}", follower.ApiKey)).Status(HttpStatusCode.OK).EnumerateArray().ToArray();

        Assert.Equal(Enumerable.Range(1, 4).Select(n => $"{strategy}-g{n}"), all.Select(o => o.Str("signalId")));
        Assert.All(all, o => Assert.Equal("copied", o.Str("outcome")));
        Assert.Equal([0.005m, 0.01m, 0.015m, 0.02m], all.Select(o => o.Dec("quantity")));
        Assert.Equal(all.Select(o => o.GetRawText()), first.Concat(rest).Select(o => o.GetRawText()));
        Assert.Equal("invalid_after", (await app.GetAsync($"{path}?after=nonsense", follower.ApiKey)).Status(HttpStatusCode.BadRequest).Str("code"));
    }

    [Fact]
    public async Task Fills_ReadModelOff_AnswerFromMemoryLikeTheFileStore()
    {
        await using var app = EngineApp.With(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Engine"] = await postgres.CreateDatabaseAsync(nameof(Fills_ReadModelOff_AnswerFromMemoryLikeTheFileStore)),
            ["Engine:History:FillsPerAccount"] = "2",
            ["Engine:History:ReadModel"] = "false",
        });
        var t = await app.CreateTraderAsync();
        await app.SetPriceAsync("BTC-USDT", "50000");
        foreach (var quantity in new[] { "0.001", "0.002", "0.003" })
            (await app.PostAsync($"/v1/accounts/{t.AccountId}/orders", new { symbol = "BTC-USDT", side = "buy", type = "market", quantity }, t.ApiKey))
                .Status(HttpStatusCode.Created);

        var fills = (await app.GetAsync($"/v1/accounts/{t.AccountId}/fills", t.ApiKey)).Status(HttpStatusCode.OK).EnumerateArray().ToArray();

        Assert.Equal(["0.002", "0.003"], fills.Select(f => f.Str("quantity")));
        Assert.Null(app.Services.GetRequiredService<EngineSilo>().History);
    }

    [Fact]
    public async Task HistoryQueries_BadPaging_400AndOtherAccounts404()
    {
        await using var app = await StartAsync(nameof(HistoryQueries_BadPaging_400AndOtherAccounts404));
        var t = await app.CreateTraderAsync("a");
        var other = await app.CreateTraderAsync("b");

        Assert.Equal("invalid_limit", (await app.GetAsync($"/v1/accounts/{t.AccountId}/fills?limit=0", t.ApiKey)).Status(HttpStatusCode.BadRequest).Str("code"));
        Assert.Equal("invalid_limit", (await app.GetAsync($"/v1/accounts/{t.AccountId}/orders?status=all&limit=1001", t.ApiKey)).Status(HttpStatusCode.BadRequest).Str("code"));
        Assert.Equal("invalid_after", (await app.GetAsync($"/v1/accounts/{t.AccountId}/fills?after={other.AccountId}-f1", t.ApiKey)).Status(HttpStatusCode.BadRequest).Str("code"));
        Assert.Equal("invalid_after", (await app.GetAsync($"/v1/accounts/{t.AccountId}/orders?status=all&after=nonsense", t.ApiKey)).Status(HttpStatusCode.BadRequest).Str("code"));
        Assert.Equal("not_found", (await app.GetAsync($"/v1/accounts/{other.AccountId}/fills", t.ApiKey)).Status(HttpStatusCode.NotFound).Str("code"));
        Assert.Equal("not_found", (await app.GetAsync($"/v1/accounts/{other.AccountId}/orders?status=all", t.ApiKey)).Status(HttpStatusCode.NotFound).Str("code"));
    }
}
