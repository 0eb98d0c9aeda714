using Engine.Api.Contracts;
using Engine.Api.Http;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Silo.Runtime;

namespace Engine.Api.Endpoints;

public static class AccountEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/v1/accounts/{accountId}").WithTags("Account");

        account.MapGet("", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var view = await silo.QueryAsync(id, g => g.FindAccount(id) is { } a ? Views.Account(g, a) : null);
            return view is null ? Problems.NotFound("account not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<AccountResponse>()
        .WithSummary("The account: wallet, equity and every bucket with its positions.");

        account.MapPost("/withdrawals", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = await RequestBody.ReadAsync<AmountRequest>(http);
            if (body.Amount is not { } amount) throw new ProblemException(400, "invalid_amount", "amount is required");
            return await Send.CommandAsync(silo, new Withdraw(amount) { Account = id }, 200, (g, _) => Views.Account(g, g.FindAccount(id)!),
                RequestBody.IdempotencyKey(http, body.ClientOrderId), RequestBody.Scoped(http, body));
        })
        .Accepts<AmountRequest>("application/json")
        .Produces<AccountResponse>()
        .WithSummary("Takes USDT out of the wallet (not from buckets).");

        account.MapPost("/buckets", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = await RequestBody.ReadAsync<CreateBucketRequest>(http);
            var command = new CreateBucket(body.Name ?? "", body.Allocation ?? 0m, DailyLossLimit: body.DailyLossLimit) { Account = id };
            return await Send.CommandAsync(silo, command, 201, (g, r) => Views.Bucket(g, g.FindAccount(id)!.FindBucket((BucketId)r.Value!)!),
                RequestBody.IdempotencyKey(http, body.ClientOrderId), RequestBody.Scoped(http, body));
        })
        .Accepts<CreateBucketRequest>("application/json")
        .Produces<BucketResponse>(201)
        .WithSummary("Creates an isolated margin bucket funded from the wallet.");

        account.MapGet("/buckets", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var view = await silo.QueryAsync(id, g => g.FindAccount(id) is { } a ? a.Buckets.Select(b => Views.Bucket(g, b)).ToArray() : null);
            return view is null ? Problems.NotFound("account not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<BucketResponse[]>()
        .WithSummary("The account's buckets.");

        account.MapGet("/buckets/{bucketId}", async (HttpContext http, EngineSilo silo, string accountId, string bucketId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var view = await silo.QueryAsync(id, g => g.FindAccount(id)?.FindBucket(new BucketId(bucketId)) is { } b ? Views.Bucket(g, b) : null);
            return view is null ? Problems.NotFound("bucket not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<BucketResponse>()
        .WithSummary("One bucket.");

        account.MapPost("/buckets/{bucketId}/transfers", async (HttpContext http, EngineSilo silo, string accountId, string bucketId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = await RequestBody.ReadAsync<TransferRequest>(http);
            if (body.Direction is not { } direction) throw new ProblemException(400, "invalid_direction", "direction must be in or out");
            if (body.Amount is not { } amount) throw new ProblemException(400, "invalid_amount", "amount is required");
            var bucket = new BucketId(bucketId);
            return await Send.CommandAsync(silo, new TransferFunds(bucket, direction, amount) { Account = id }, 200,
                (g, _) => Views.Bucket(g, g.FindAccount(id)!.FindBucket(bucket)!), RequestBody.IdempotencyKey(http, body.ClientOrderId), RequestBody.Scoped(http, body));
        })
        .Accepts<TransferRequest>("application/json")
        .Produces<BucketResponse>()
        .WithSummary("Moves USDT between the wallet and a bucket (in: wallet to bucket; out: only what no position uses).");

        account.MapPut("/buckets/{bucketId}/leverage", async (HttpContext http, EngineSilo silo, string accountId, string bucketId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = await RequestBody.ReadAsync<LeverageRequest>(http);
            if (body.Symbol is null) throw new ProblemException(400, "unknown_symbol", "symbol is required");
            if (body.Leverage is not { } leverage) throw new ProblemException(400, "invalid_leverage", "leverage is required");
            var bucket = new BucketId(bucketId);
            return await Send.CommandAsync(silo, new SetLeverage(bucket, body.Symbol, leverage) { Account = id }, 200,
                (g, _) => Views.Bucket(g, g.FindAccount(id)!.FindBucket(bucket)!), RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, body));
        })
        .Accepts<LeverageRequest>("application/json")
        .Produces<BucketResponse>()
        .WithSummary("Sets a symbol's leverage in a bucket (not while a position in it is open).");

        account.MapGet("/positions", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var view = await silo.QueryAsync(id, g => g.FindAccount(id) is { } a
                ? a.Buckets.SelectMany(b => b.Positions.Values.OrderBy(p => p.Symbol, StringComparer.Ordinal)).Select(p => Views.Position(g, p)).ToArray()
                : null);
            return view is null ? Problems.NotFound("account not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<PositionResponse[]>()
        .WithSummary("Every open position of the account, across buckets.");

        account.MapGet("/fills", async (HttpContext http, EngineSilo silo, string accountId, string? symbol, string? after, int? limit) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            if (limit is < 1 or > 1000) throw new ProblemException(400, "invalid_limit", "limit must be 1 to 1000");
            long afterNumber = 0;
            if (after is not null && !TryFillNumber(id, after, out afterNumber))
                throw new ProblemException(400, "invalid_after", "after must be a fillId of this account");
            // With PostgreSQL every fill is in the history read model, paged there; else the recent ones are in memory.
            var history = silo.History;
            var view = await silo.QueryAsync(id, g => g.FindAccount(id) is { } a
                ? history is not null ? [] : a.Fills.Where(f => f.Number > afterNumber && (symbol is null || f.Symbol == symbol)).Take(limit ?? 100).Select(f => Views.Fill(id, f)).ToArray()
                : null);
            if (view is null) return Problems.NotFound("account not found");
            if (history is null) return Results.Json(view, ApiJson.Options);
            await silo.CatchUpHistoryAsync(id, http.RequestAborted);
            var fills = await history.FillsAsync(id, symbol, afterNumber, limit ?? 100, http.RequestAborted);
            return Results.Json(fills.Select(f => Views.Fill(id, f)).ToArray(), ApiJson.Options);
        })
        .Produces<FillResponse[]>()
        .WithSummary("Fills, oldest first (every one with PostgreSQL, else the recent ones); page with after = the last fillId seen and limit (1 to 1000, 100 by default).");

        account.MapGet("/events", async (HttpContext http, EngineSilo silo, string accountId, long? after) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var from = after ?? 0;
            if (from < 0) throw new ProblemException(400, "invalid_after", "after must be a sequence number, 0 or more");
            if (http.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                await StreamAsync(http, silo, id, from);
                return Results.Empty;
            }

            var view = await silo.QueryAsync(id, g => g.FindAccount(id) is { } a
                ? a.Events.Where(e => e.Sequence > from && Shown(e)).Take(1000).Select(Views.Event).ToArray()
                : null);
            return view is null ? Problems.NotFound("account not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<object[]>()
        .WithSummary("The account's events after a sequence number, in order; with Accept: text/event-stream, a live stream.");
    }

    private static bool TryFillNumber(AccountId account, string fillId, out long number)
    {
        number = 0;
        var prefix = account.Value + "-f";
        return fillId.StartsWith(prefix, StringComparison.Ordinal) && long.TryParse(fillId.AsSpan(prefix.Length), out number);
    }

    /// <summary>
    /// Server-sent events: the history after <paramref name="after"/>, then live events as they are
    /// committed. Subscribing before reading history and skipping seen sequences loses nothing between.
    /// </summary>
    private static async Task StreamAsync(HttpContext http, EngineSilo silo, AccountId id, long after)
    {
        using var subscription = silo.Events.Subscribe(id);
        var history = await silo.QueryAsync(id, g => g.FindAccount(id)?.Events.Where(e => e.Sequence > after).ToArray());
        if (history is null) throw new ProblemException(404, "not_found", "account not found");

        http.Response.Headers.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var last = after;
        foreach (var e in history) last = await WriteAsync(http, e, last);
        await http.Response.Body.FlushAsync(http.RequestAborted);
        try
        {
            await foreach (var e in subscription.Reader.ReadAllAsync(http.RequestAborted))
            {
                last = await WriteAsync(http, e, last);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
    }

    /// <summary>
    /// Stored idempotent responses are the runtime's bookkeeping, not something that happened to the
    /// account; their bodies (an account creation's holds the API key) stay out of the event feed.
    /// </summary>
    private static bool Shown(SequencedEvent e) => e.Event is not IdempotentResponseRecorded;

    private static async Task<long> WriteAsync(HttpContext http, SequencedEvent e, long last)
    {
        if (e.Sequence <= last) return last;
        if (!Shown(e)) return e.Sequence;
        var view = Views.Event(e);
        var json = view.ToJsonString(ApiJson.Options);
        await http.Response.WriteAsync($"id: {e.Sequence}\nevent: {view["type"]}\ndata: {json}\n\n", http.RequestAborted);
        return e.Sequence;
    }
}
