using Engine.Grains.Plans;

namespace Engine.Grains;

/// <summary>
/// Creates a plan (and its bucket when the request has an allocation). For a recurring plan the
/// runtime has computed <see cref="PlanRequest.EventAt"/> as the first occurrence from the cron.
/// </summary>
public sealed record CreatePlan(PlanRequest Request) : Command;

/// <summary>
/// Runs a scheduled step of the occurrence at <paramref name="EventAt"/>. A step that is not due for
/// the plan's current occurrence (already done, or for another occurrence) changes nothing, so a
/// scheduler may fire a step twice. <paramref name="NextEventAt"/> is the recurring plan's next
/// occurrence, used if this step ends the current one.
/// </summary>
public sealed record RunPlanStep(PlanId Plan, PlanStep Step, DateTimeOffset EventAt, DateTimeOffset? NextEventAt) : Command;

/// <summary>Cancels a plan and its entries that have not triggered.</summary>
public sealed record CancelPlan(PlanId Plan) : Command;
