namespace Engine.Grains.Risk;

/// <summary>
/// When a symbol's circuit breaker pauses triggering.
/// </summary>
/// <param name="MaxMove">A fraction: the breaker trips when the index is more than this above the lowest
/// or below the highest index seen within <paramref name="Window"/>. Zero turns the move breaker off.</param>
/// <param name="Window">How far back the move is measured.</param>
/// <param name="Pause">How long a price-move trip pauses the symbol.</param>
/// <param name="HaltOnDegraded">Pause while the index is degraded (once it has been healthy since the
/// engine started or the symbol last resumed), until it is healthy again.</param>
public sealed record CircuitBreakerSettings(decimal MaxMove, TimeSpan Window, TimeSpan Pause, bool HaltOnDegraded)
{
    /// <summary>No automatic pauses; operators can still halt by hand.</summary>
    public static CircuitBreakerSettings Off { get; } = new(0m, TimeSpan.Zero, TimeSpan.Zero, false);
}
