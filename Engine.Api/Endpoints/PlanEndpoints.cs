using System.Globalization;
using Engine.Api.Contracts;
using Engine.Api.Http;
using Engine.Grains;
using Engine.Grains.Plans;
using Engine.Silo.Plans;
using Engine.Silo.Runtime;

namespace Engine.Api.Endpoints;

public static class PlanEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/v1/accounts/{accountId}").WithTags("Trade plans");

        account.MapPost("/plans", async (HttpContext http, EngineSilo silo, TimeProvider time, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var body = await RequestBody.ReadAsync<PlanRequestBody>(http);
            var key = RequestBody.IdempotencyKey(http, body.ClientOrderId);
            var request = ToDomain(body, time.GetUtcNow());
            return await Send.CommandAsync(silo, new CreatePlan(request) { Account = id }, 201,
                (g, r) => PlanViews.Plan(g.FindPlan(id, (PlanId)r.Value!)!), key, RequestBody.Scoped(http, body));
        })
        .Accepts<PlanRequestBody>("application/json")
        .Produces<PlanResponse>(201)
        .WithSummary("Creates a trade plan: entries armed before a scheduled event (one time, or a cron with a time zone), disarmed and flattened after it.");

        account.MapGet("/plans", async (HttpContext http, EngineSilo silo, string accountId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var view = await silo.QueryAsync(id, g => g.FindAccount(id) is null ? null : g.PlansOf(id).Select(PlanViews.Plan).ToArray());
            return view is null ? Problems.NotFound("account not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<PlanResponse[]>()
        .WithSummary("The account's plans, oldest first, each with its status and history.");

        account.MapGet("/plans/{planId}", async (HttpContext http, EngineSilo silo, string accountId, string planId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId, operatorAllowed: true);
            var view = await silo.QueryAsync(id, g => g.FindPlan(id, new PlanId(planId)) is { } p ? PlanViews.Plan(p) : null);
            return view is null ? Problems.NotFound("plan not found") : Results.Json(view, ApiJson.Options);
        })
        .Produces<PlanResponse>()
        .WithSummary("One plan: status (scheduled, armed, disarmed, completed, cancelled) and history.");

        account.MapDelete("/plans/{planId}", async (HttpContext http, EngineSilo silo, string accountId, string planId) =>
        {
            var id = ApiKeys.RequireAccount(http, silo, accountId);
            var plan = new PlanId(planId);
            return await Send.CommandAsync(silo, new CancelPlan(plan) { Account = id }, 200, (g, _) => PlanViews.Plan(g.FindPlan(id, plan)!),
                RequestBody.IdempotencyKey(http, null), RequestBody.Scoped(http, null));
        })
        .Produces<PlanResponse>()
        .WithSummary("Cancels a plan and its entries that have not triggered (exits protecting an open position stay).");

        app.MapPost("/v1/tools/position-size", async (HttpContext http, EngineSilo silo) =>
        {
            ApiKeys.RequireAny(http, silo);
            var body = await RequestBody.ReadAsync<PositionSizeRequest>(http);
            if (string.IsNullOrEmpty(body.Symbol) || silo.Instruments.Find(body.Symbol) is not { } instrument)
                throw new ProblemException(400, "unknown_symbol", $"unknown symbol {body.Symbol}");
            var equity = body.Equity ?? throw Missing("equity");
            var risk = body.RiskFraction ?? throw Missing("riskFraction");
            var entry = body.EntryPrice ?? throw Missing("entryPrice");
            var stop = body.StopPrice ?? throw Missing("stopPrice");
            var leverage = body.Leverage ?? throw Missing("leverage");
            var (size, rejection) = PositionSizing.Calculate(instrument, equity, risk, entry, stop, leverage);
            if (rejection is not null) return Problems.Of(rejection);
            return Results.Json(new PositionSizeResponse(instrument.Symbol, size!.Side == Grains.Orders.OrderSide.Buy ? PositionSide.Long : PositionSide.Short,
                size.Quantity, size.Notional, size.Margin, size.LiquidationPrice, equity * risk, size.LossAtStop), ApiJson.Options);
        })
        .WithTags("Tools")
        .Accepts<PositionSizeRequest>("application/json")
        .Produces<PositionSizeResponse>()
        .WithSummary("Sizes a position so that a stop-out loses equity × riskFraction (taker fees included), as plans size their entries.");
    }

    private static ProblemException Missing(string field) => new(400, CodeOf(field), $"{field} is required");

    /// <summary>The code of a field's problem: <c>invalid_</c> and the field in snake case (armBefore: invalid_arm_before).</summary>
    private static string CodeOf(string field) =>
        "invalid_" + string.Concat(field.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));

    /// <summary>
    /// Parses what the domain cannot: times, durations, names of enum values, and a recurring plan's cron
    /// and time zone, whose first occurrence is computed here. The domain checks the rest.
    /// </summary>
    internal static PlanRequest ToDomain(PlanRequestBody b, DateTimeOffset now)
    {
        var armBefore = Duration(b.ArmBefore, "armBefore", required: true)!.Value;
        var disarmAfter = Duration(b.DisarmAfter, "disarmAfter", required: true)!.Value;
        var flattenAfter = Duration(b.FlattenAfter, "flattenAfter", required: false);

        if (b.Event is not { } e) throw new ProblemException(400, "invalid_event", "event is required: {at} or {cron, timeZone}");
        DateTimeOffset eventAt;
        if (e.Cron is not null)
        {
            if (e.At is not null) throw new ProblemException(400, "invalid_event", "give event.at or event.cron, not both");
            var (calendar, problem) = PlanCalendar.Create(e.Cron, e.TimeZone);
            if (problem is not null) throw new ProblemException(400, problem.Code, problem.Detail);
            // With offsets the domain refuses anyway, there is no occurrence to look for (nor arithmetic to overflow).
            var sane = InRange(armBefore) && InRange(disarmAfter) && (flattenAfter is null || InRange(flattenAfter.Value));
            if (sane)
            {
                var (first, overlap) = calendar!.FirstOccurrence(now, armBefore, flattenAfter ?? disarmAfter);
                if (overlap is not null) throw new ProblemException(400, overlap.Code, overlap.Detail);
                eventAt = first!.Value;
            }
            else
            {
                eventAt = now;
            }
        }
        else
        {
            if (e.TimeZone is not null) throw new ProblemException(400, "invalid_event", "event.timeZone goes with event.cron");
            if (e.At is null) throw new ProblemException(400, "invalid_event", "event is required: {at} or {cron, timeZone}");
            if (!DateTimeOffset.TryParse(e.At, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out eventAt)
                || !e.At.Contains('T', StringComparison.Ordinal))
                throw new ProblemException(400, "invalid_event", "event.at must be an ISO 8601 time such as 2026-03-11T12:30:00Z");
        }

        if (b.Entry is not { } entry) throw new ProblemException(400, "invalid_entry", "entry is required: {type: straddle, buyStop or sellStop, distance}");
        var entryType = entry.Type switch
        {
            "straddle" => PlanEntryType.Straddle,
            "buyStop" => PlanEntryType.BuyStop,
            "sellStop" => PlanEntryType.SellStop,
            _ => throw new ProblemException(400, "invalid_entry", "entry.type must be straddle, buyStop or sellStop"),
        };
        if (b.StopLoss is null) throw new ProblemException(400, "invalid_stop_loss", "stopLoss is required: {distance}");
        if (b.Sizing is null) throw new ProblemException(400, "invalid_sizing", "sizing is required: {riskFraction} or {quantity}");
        var misfire = b.Misfire switch
        {
            "skip" => PlanMisfire.Skip,
            "armLate" => PlanMisfire.ArmLate,
            _ => throw new ProblemException(400, "invalid_misfire", "misfire must be skip or armLate"),
        };

        return new PlanRequest
        {
            Name = b.Name ?? "",
            Symbol = b.Symbol ?? "",
            Bucket = b.BucketId is null ? null : new BucketId(b.BucketId),
            Allocation = b.Allocation,
            EventAt = eventAt,
            Cron = e.Cron,
            TimeZone = e.Cron is null ? null : e.TimeZone,
            ArmBefore = armBefore,
            DisarmAfter = disarmAfter,
            FlattenAfter = flattenAfter,
            Entry = entryType,
            EntryDistance = entry.Distance ?? throw new ProblemException(400, "invalid_distance", "entry.distance is required"),
            RiskFraction = b.Sizing.RiskFraction,
            Quantity = b.Sizing.Quantity,
            StopLossDistance = b.StopLoss.Distance ?? throw new ProblemException(400, "invalid_distance", "stopLoss.distance is required"),
            TakeProfitDistance = b.TakeProfit is null ? null : b.TakeProfit.Distance ?? throw new ProblemException(400, "invalid_distance", "takeProfit.distance is required"),
            Misfire = misfire,
        };
    }

    private static bool InRange(TimeSpan d) => d > TimeSpan.Zero && d <= ShardGrains.MaxPlanOffset;

    private static TimeSpan? Duration(string? text, string field, bool required)
    {
        var code = CodeOf(field);
        if (text is null)
            return required ? throw new ProblemException(400, code, $"{field} is required, an ISO 8601 duration such as PT5M") : null;
        return IsoDuration.TryParse(text, out var d)
            ? d
            : throw new ProblemException(400, code, $"{field} must be an ISO 8601 duration such as PT5M, PT30M or PT4H (days, hours, minutes, seconds)");
    }
}
