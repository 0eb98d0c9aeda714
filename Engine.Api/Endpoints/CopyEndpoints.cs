using Engine.Api.Contracts;
using Engine.Api.Http;
using Engine.Grains;
using Engine.Grains.CopyTrading;
using Engine.Grains.Events;
using Engine.Silo.Runtime;

namespace Engine.Api.Endpoints;

/// <summary>Copy trading: strategies (with the leader's account) and subscriptions (with the follower's).</summary>
public static class CopyEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var strategies = app.MapGroup("/v1/strategies").WithTags("Copy trading");

        strategies.MapPost("", async (HttpContext http, EngineSilo silo) =>
        {
            ApiKeys.RequireAny(http, silo);
            var body = await RequestBody.ReadAsync<StrategyRequestBody>(http);
            var leader = ApiKeys.RequireAccount(http, silo, Required(body.AccountId, "accountId"));
            var bucket = new BucketId(Required(body.BucketId, "bucketId"));
            var key = RequestBody.IdempotencyKey(http, body.ClientOrderId);
            return await Send.CommandAsync(silo, new PublishStrategy(bucket, body.Name ?? "", body.Description) { Account = leader }, 201,
                (g, r) => CopyViews.Strategy(g.FindStrategy((StrategyId)r.Value!)!), key, RequestBody.Scoped(http, body));
        })
        .Accepts<StrategyRequestBody>("application/json")
        .Produces<StrategyResponse>(201)
        .WithSummary("Publishes a strategy on one of the leader's buckets: every fill there becomes a signal its followers mirror.");

        strategies.MapGet("", async (HttpContext http, EngineSilo silo) =>
        {
            ApiKeys.RequireAny(http, silo);
            var all = await silo.QueryAllAsync(g => g.Strategies.Select(CopyViews.Strategy).ToArray());
            return Results.Json(all.SelectMany(s => s).OrderBy(s => s.CreatedAt).ThenBy(s => s.StrategyId.Value, StringComparer.Ordinal).ToArray(), ApiJson.Options);
        })
        .Produces<StrategyResponse[]>()
        .WithSummary("Every strategy, oldest first, with followers, allocated capital and PnL.");

        strategies.MapGet("/{strategyId}", async (HttpContext http, EngineSilo silo, string strategyId) =>
        {
            ApiKeys.RequireAny(http, silo);
            var id = new StrategyId(strategyId);
            if (id.Leader is not { } leader) return Problems.NotFound("strategy not found");
            var view = await silo.QueryAsync(leader, g => g.FindStrategy(id) is { } s ? CopyViews.Strategy(s) : null);
            return view is null ? Problems.NotFound("strategy not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<StrategyResponse>()
        .WithSummary("One strategy with its statistics.");

        strategies.MapDelete("/{strategyId}", async (HttpContext http, EngineSilo silo, string strategyId) =>
        {
            var id = new StrategyId(strategyId);
            if (id.Leader is not { } leader) throw new ProblemException(404, "not_found", "strategy not found");
            ApiKeys.RequireAccount(http, silo, leader.Value);
            var close = ClosePositions(http);
            return await Send.ThroughAsync(silo.Copy.CloseStrategyAsync, new CloseStrategy(id, close) { Account = leader }, 200,
                (g, _) => CopyViews.Strategy(g.FindStrategy(id)!), RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, null));
        })
        .Produces<StrategyResponse>()
        .WithSummary("Closes the strategy; every subscription ends the same way (closePositions=true flattens the followers' buckets and returns their balance, false keeps them as manual buckets).");

        strategies.MapPost("/{strategyId}/subscriptions", async (HttpContext http, EngineSilo silo, string strategyId) =>
        {
            ApiKeys.RequireAny(http, silo);
            var body = await RequestBody.ReadAsync<SubscriptionRequestBody>(http);
            var follower = ApiKeys.RequireAccount(http, silo, Required(body.AccountId, "accountId"));
            var strategy = new StrategyId(strategyId);
            if (strategy.Leader is not { } leader) throw new ProblemException(404, "not_found", "strategy not found");
            var settings = ToSettings(body);
            var allocation = body.Allocation ?? throw new ProblemException(400, "invalid_allocation", "allocation is required (USDT moved from the wallet)");
            var key = RequestBody.IdempotencyKey(http, body.ClientOrderId);
            var command = new Subscribe(strategy, leader, allocation, settings, body.ClientOrderId, RequestBody.HashOf(body)) { Account = follower };
            return await Send.ThroughAsync(e => silo.Copy.SubscribeAsync(strategy, e), command, 201,
                (g, r) => CopyViews.Subscription(g.FindSubscription(follower, (SubscriptionId)r.Value!)!), key, RequestBody.Scoped(http, body));
        })
        .Accepts<SubscriptionRequestBody>("application/json")
        .Produces<SubscriptionResponse>(201)
        .WithSummary("Subscribes to a strategy: the allocation moves from the wallet into a new copy bucket that mirrors the leader's fills.");

        var account = app.MapGroup("/v1/accounts/{accountId}/subscriptions").WithTags("Copy trading");

        account.MapGet("", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var view = await silo.QueryAsync(id, g => g.FindAccount(id) is null ? null : g.SubscriptionsOf(id).Select(CopyViews.Subscription).ToArray());
            return view is null ? Problems.NotFound("account not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<SubscriptionResponse[]>()
        .WithSummary("The account's subscriptions, oldest first.");

        account.MapGet("/{subscriptionId}", async (HttpContext http, EngineSilo silo, string accountId, string subscriptionId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var view = await silo.QueryAsync(id, g => g.FindSubscription(id, new SubscriptionId(subscriptionId)) is { } s ? CopyViews.Subscription(s) : null);
            return view is null ? Problems.NotFound("subscription not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<SubscriptionResponse>()
        .WithSummary("One subscription.");

        account.MapGet("/{subscriptionId}/outcomes", async (HttpContext http, EngineSilo silo, string accountId, string subscriptionId, string? after, int? limit) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            if (limit is < 1 or > 1000) throw new ProblemException(400, "invalid_limit", "limit must be 1 to 1000");
            var sub = new SubscriptionId(subscriptionId);
            // With PostgreSQL every outcome is in the history read model, paged there; else the recent ones are in memory.
            var history = silo.History;
            var found = await silo.QueryAsync(id, g => g.FindSubscription(id, sub) is { } s
                ? (Subscription: s, Recent: history is null ? s.Outcomes.ToArray() : [])
                : ((Subscription Subscription, CopyOutcomeRecorded[] Recent)?)null);
            if (found is not { } f) return Problems.NotFound("subscription not found");
            var afterSequence = 0L;
            if (after is not null && !CopySignal.TryParseId(f.Subscription.Spec.Strategy, after, out afterSequence))
                throw new ProblemException(400, "invalid_after", "after must be a signalId of this subscription's strategy");
            IEnumerable<CopyOutcomeRecorded> entries;
            if (history is null)
            {
                entries = f.Recent.Where(o => o.Sequence > afterSequence).Take(limit ?? int.MaxValue);
            }
            else
            {
                await silo.CatchUpHistoryAsync(id, http.RequestAborted);
                entries = await history.CopyOutcomesAsync(id, sub, afterSequence, limit ?? 1000, http.RequestAborted);
            }

            return Results.Json(entries.Select(o => CopyViews.Outcome(f.Subscription, o)).ToArray(), ApiJson.Options);
        })
        .Produces<CopyOutcomeResponse[]>()
        .WithSummary("What happened to each signal, oldest first: copied, scaledDown or skipped, with the reason and the follower's order "
            + "(every one with PostgreSQL, else the recent ones); page with after = the last signalId seen and limit (1 to 1000).");

        account.MapDelete("/{subscriptionId}", async (HttpContext http, EngineSilo silo, string accountId, string subscriptionId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var sub = new SubscriptionId(subscriptionId);
            var close = ClosePositions(http);
            return await Send.ThroughAsync(silo.Copy.UnsubscribeAsync, new EndSubscription(sub, close, CopyReasons.Unsubscribed) { Account = id }, 200,
                (g, _) => CopyViews.Subscription(g.FindSubscription(id, sub)!), RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, null));
        })
        .Produces<SubscriptionResponse>()
        .WithSummary("Ends the subscription: closePositions=true flattens the bucket and returns its balance to the wallet; false (the default) keeps it as a manual bucket.");
    }

    private static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value)
            ? throw new ProblemException(400, "invalid_" + string.Concat(field.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString())),
                $"{field} is required")
            : value;

    private static bool ClosePositions(HttpContext http)
    {
        var text = http.Request.Query["closePositions"].ToString();
        return text switch
        {
            "" or "false" => false,
            "true" => true,
            _ => throw new ProblemException(400, "invalid_close_positions", "closePositions must be true or false"),
        };
    }

    /// <summary>Parses the names the domain cannot check (enum values); the domain checks the numbers.</summary>
    private static CopySettings ToSettings(SubscriptionRequestBody b)
    {
        if (b.Sizing is not { } sizing) throw new ProblemException(400, "invalid_sizing", "sizing is required: {mode: equityRatio, fixedRatio or fixedNotional, ratio?, notional?}");
        var mode = sizing.Mode switch
        {
            "equityRatio" => CopySizingMode.EquityRatio,
            "fixedRatio" => CopySizingMode.FixedRatio,
            "fixedNotional" => CopySizingMode.FixedNotional,
            _ => throw new ProblemException(400, "invalid_sizing", "sizing.mode must be equityRatio, fixedRatio or fixedNotional"),
        };
        var policy = b.OnInsufficientMargin switch
        {
            "scaleDown" => InsufficientMarginPolicy.ScaleDown,
            "skip" => InsufficientMarginPolicy.Skip,
            _ => throw new ProblemException(400, "invalid_on_insufficient_margin", "onInsufficientMargin is required: scaleDown or skip"),
        };
        return new CopySettings
        {
            Mode = mode,
            Ratio = sizing.Ratio,
            Notional = sizing.Notional,
            MaxLeverage = b.MaxLeverage,
            MaxPositionNotional = b.MaxPositionNotional,
            SlippageLimit = b.SlippageLimit,
            Symbols = b.Symbols,
            CopyTakeProfitStopLoss = b.CopyTakeProfitStopLoss ?? false,
            OnInsufficientMargin = policy,
        };
    }
}
