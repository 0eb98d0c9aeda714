using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Engine.Api.Contracts;
using Engine.Api.Http;
using Engine.Grains;
using Engine.Silo.Runtime;

namespace Engine.Api.Endpoints;

/// <summary>Risk controls: kill switches, the dead man's switch, daily loss limits, symbol halts.</summary>
public static class RiskEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/v1/accounts/{accountId}").WithTags("Risk");

        account.MapPost("/kill-switch", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = HasBody(http) ? await RequestBody.ReadAsync<KillSwitchRequest>(http) : new KillSwitchRequest();
            var bucket = body.BucketId is null ? (BucketId?)null : new BucketId(body.BucketId);
            return await Send.CommandAsync(silo, new EngageKillSwitch(bucket) { Account = id }, 200,
                (_, r) => KillSwitchView(id, bucket, true, (FlattenOutcome)r.Value!),
                RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, body));
        })
        .Accepts<KillSwitchRequest>("application/json")
        .Produces<KillSwitchResponse>()
        .WithSummary("Kill switch on for the account, or for one bucket: cancels every order and closes every position in scope, then refuses new orders there (trading_disabled) until released.");

        account.MapDelete("/kill-switch", async (HttpContext http, EngineSilo silo, string accountId, string? bucketId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = HasBody(http) ? await RequestBody.ReadAsync<KillSwitchRequest>(http) : new KillSwitchRequest();
            if (bucketId is not null && body.BucketId is not null && bucketId != body.BucketId)
                throw new ProblemException(400, "invalid_bucket_id", "the query's bucketId and the body's differ");
            var scope = bucketId ?? body.BucketId;
            var bucket = scope is null ? (BucketId?)null : new BucketId(scope);
            return await Send.CommandAsync(silo, new ReleaseKillSwitch(bucket) { Account = id }, 200,
                (_, r) => KillSwitchView(id, bucket, false, (FlattenOutcome)r.Value!),
                RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, scope));
        })
        .Produces<KillSwitchResponse>()
        .WithSummary("Releases the kill switch of the account, or of one bucket (bucketId in the query or the body).");

        account.MapPost("/cancel-all-after", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = await RequestBody.ReadAsync<CancelAllAfterRequest>(http);
            if (body.TimeoutSeconds is not { } timeout) throw new ProblemException(400, "invalid_timeout_seconds", "timeoutSeconds is required (0 disarms)");
            return await Send.CommandAsync(silo, new SetCancelAllAfter(timeout) { Account = id }, 200,
                (g, _) => CancelAllAfterView(g.FindAccount(id)!), RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, body));
        })
        .Accepts<CancelAllAfterRequest>("application/json")
        .Produces<CancelAllAfterResponse>()
        .WithSummary("Dead man's switch: unless called again within timeoutSeconds, the account's entry orders are cancelled; protective reduce-only and close-position orders stay. 0 disarms it.");

        account.MapGet("/cancel-all-after", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var view = await silo.QueryAsync(id, g => g.FindAccount(id) is { } a ? CancelAllAfterView(a) : null);
            return view is null ? Problems.NotFound("account not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<CancelAllAfterResponse>()
        .WithSummary("The dead man's switch: armed or not, and its deadline.");

        account.MapPut("/buckets/{bucketId}/daily-loss-limit", async (HttpContext http, EngineSilo silo, string accountId, string bucketId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = await RequestBody.ReadAsync<JsonObject>(http);
            if (!body.TryGetPropertyValue("dailyLossLimit", out var field))
                throw new ProblemException(400, "invalid_daily_loss_limit", "dailyLossLimit is required: an amount in USDT, or null to remove the limit");
            var limit = field switch
            {
                null => (decimal?)null,
                JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<decimal>(out var n) => n,
                JsonValue v when v.GetValueKind() == JsonValueKind.String
                    && decimal.TryParse(v.GetValue<string>(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var s) => s,
                _ => throw new ProblemException(400, "invalid_daily_loss_limit", "dailyLossLimit must be a decimal amount (\"500\") or null"),
            };
            var bucket = new BucketId(bucketId);
            return await Send.CommandAsync(silo, new SetDailyLossLimit(bucket, limit) { Account = id }, 200,
                (g, _) => Views.Bucket(g, g.FindAccount(id)!.FindBucket(bucket)!), RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, limit));
        })
        .Accepts<DailyLossLimitBody>("application/json")
        .Produces<BucketResponse>()
        .WithSummary("Sets (or with null removes) a bucket's daily loss limit: at that loss since the UTC day's start, realized and unrealized, the bucket is flattened and locked until the next day or a release.");

        account.MapPost("/buckets/{bucketId}/daily-loss-limit/release", async (HttpContext http, EngineSilo silo, string accountId, string bucketId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var bucket = new BucketId(bucketId);
            return await Send.CommandAsync(silo, new ReleaseDailyLossLock(bucket) { Account = id }, 200,
                (g, _) => Views.Bucket(g, g.FindAccount(id)!.FindBucket(bucket)!), RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, null));
        })
        .Produces<BucketResponse>()
        .WithSummary("Releases a bucket's daily-loss lock before the next UTC day; the day's loss counts again from now.");

        var symbols = app.MapGroup("/v1").WithTags("Risk");

        symbols.MapGet("/symbols/{symbol}/status", (HttpContext http, EngineSilo silo, string symbol) =>
        {
            ApiKeys.RequireAny(http, silo);
            if (!silo.Prices.TryGetHalt(symbol, out var halt)) return Problems.NotFound($"unknown symbol {symbol}");
            return Results.Json(StatusView(symbol, halt), ApiJson.Options);
        })
        .Produces<SymbolStatusResponse>()
        .WithSummary("Whether triggering is halted for a symbol (circuit breaker or operator), why, since when and until when.");

        symbols.MapPost("/operator/symbols/{symbol}/halt", async (HttpContext http, EngineSilo silo, TimeProvider time, string symbol) =>
        {
            ApiKeys.RequireOperator(http, silo);
            var body = HasBody(http) ? await RequestBody.ReadAsync<HaltRequest>(http) : new HaltRequest();
            if (!silo.Prices.TryGetHalt(symbol, out _)) return Problems.NotFound($"unknown symbol {symbol}");
            if (body.Until is { } until && until <= time.GetUtcNow())
                throw new ProblemException(400, "invalid_until", "until must be in the future");
            await silo.Prices.HaltAsync(symbol, body.Until);
            silo.Prices.TryGetHalt(symbol, out var halt);
            return Results.Json(StatusView(symbol, halt), ApiJson.Options);
        })
        .Accepts<HaltRequest>("application/json")
        .Produces<SymbolStatusResponse>()
        .WithSummary("Halts triggering for a symbol (operator key), until resumed or the optional until.");

        symbols.MapPost("/operator/symbols/{symbol}/resume", async (HttpContext http, EngineSilo silo, string symbol) =>
        {
            ApiKeys.RequireOperator(http, silo);
            if (!silo.Prices.TryGetHalt(symbol, out _)) return Problems.NotFound($"unknown symbol {symbol}");
            await silo.Prices.ResumeAsync(symbol);
            silo.Prices.TryGetHalt(symbol, out var halt);
            return Results.Json(StatusView(symbol, halt), ApiJson.Options);
        })
        .Produces<SymbolStatusResponse>()
        .WithSummary("Resumes triggering for a symbol (operator key): every halt of it ends and waiting orders are evaluated at the current prices.");
    }

    /// <summary>A body was sent (these endpoints also take none).</summary>
    private static bool HasBody(HttpContext http) =>
        http.Request.ContentLength is > 0 || (http.Request.ContentLength is null && http.Request.Headers.TransferEncoding.Count > 0);

    private static KillSwitchResponse KillSwitchView(AccountId account, BucketId? bucket, bool active, FlattenOutcome outcome) =>
        new(account.Value, bucket?.Value, active, outcome.CancelledOrders, outcome.ClosedPositions, outcome.PendingPositions);

    private static CancelAllAfterResponse CancelAllAfterView(Engine.Grains.Accounts.Account a) => new(a.Id.Value, a.CancelAllAfter is not null, a.CancelAllAfter);

    private static SymbolStatusResponse StatusView(string symbol, Engine.Grains.Risk.SymbolHalt? halt) =>
        halt is null ? new SymbolStatusResponse(symbol, false) : new SymbolStatusResponse(symbol, true, halt.Reason, halt.Since, halt.Until);
}

/// <summary>The daily loss limit in USDT (a decimal), or null to remove it; the field is required.</summary>
public sealed record DailyLossLimitBody(decimal? DailyLossLimit);
