using Engine.Grains.Plans;

namespace Engine.Grains.Events;

/// <summary>Something that happened to a trade plan. Times are UTC; <c>EventAt</c> names the occurrence.</summary>
public abstract record PlanEvent : AccountEvent
{
    public required PlanId Plan { get; init; }
}

/// <summary>A plan was created; <paramref name="EventAt"/> is its first occurrence.</summary>
public sealed record PlanCreated(PlanSpec Spec, DateTimeOffset EventAt) : PlanEvent;

/// <summary>
/// The occurrence armed at index <paramref name="ReferencePrice"/> with entries of <paramref name="Quantity"/>;
/// <paramref name="Orders"/> are the list's members with their roles (the list's events follow).
/// </summary>
public sealed record PlanArmed(DateTimeOffset EventAt, decimal ReferencePrice, decimal Quantity, ListId List, PlanOrder[] Orders) : PlanEvent;

/// <summary>The occurrence did not arm; <paramref name="Reason"/> is a stable code (event_passed, missed_arm, no_price, a sizing or placement rejection).</summary>
public sealed record PlanArmSkipped(DateTimeOffset EventAt, string Reason) : PlanEvent;

/// <summary>The disarm step cancelled the entries in <paramref name="Orders"/> (those that had not triggered).</summary>
public sealed record PlanDisarmed(DateTimeOffset EventAt, long[] Orders) : PlanEvent;

/// <summary>
/// The flatten step: <paramref name="Order"/> is the reduce-only market order closing <paramref name="Quantity"/>
/// (its events follow), or null with <paramref name="Reason"/> when nothing was closed.
/// </summary>
public sealed record PlanFlattened(DateTimeOffset EventAt, long? Order, decimal Quantity, string? Reason) : PlanEvent;

/// <summary>The occurrence at <paramref name="EventAt"/> is over and the plan has no further one.</summary>
public sealed record PlanCompleted(DateTimeOffset EventAt) : PlanEvent;

/// <summary>The occurrence at <paramref name="EventAt"/> is over; the recurring plan waits for <paramref name="NextEventAt"/>.</summary>
public sealed record PlanRescheduled(DateTimeOffset EventAt, DateTimeOffset NextEventAt) : PlanEvent;

/// <summary>The plan was cancelled (its untriggered entries were cancelled just before).</summary>
public sealed record PlanCancelled : PlanEvent;
