using Engine.Grains.Events;
using Engine.Grains.Orders;

namespace Engine.Grains;

/// <remarks>
/// Wick protection: when a wick-protected order's trigger holds, it leaves the book and waits for
/// its confirmation (<see cref="OrderSpec.TriggerConfirmation"/>). At its end, on the timer, the
/// order fires at the watched price of that moment if that price still satisfies the trigger;
/// otherwise it goes back into the book and waits as before. A one-tick wick therefore never fires
/// it, while a move that holds does. An OCO sibling is cancelled only when the order really fires.
/// </remarks>
public sealed partial class ShardGrains
{
    /// <summary>Longest trigger confirmation.</summary>
    public static readonly TimeSpan MaxTriggerConfirmation = TimeSpan.FromHours(1);

    private void BeginConfirmation(Order order, decimal price) =>
        Emit(new TriggerConfirmationStarted(order.Number, price, _now + order.Spec.TriggerConfirmation!.Value) { At = _now, Account = order.Account });

    /// <summary>
    /// Confirmations that have ended are resolved in (end, order number) order. One of a halted symbol,
    /// or of a symbol without a price yet (after a restart), waits until it can be judged.
    /// </summary>
    private void ResolveConfirmations()
    {
        var now = _now.UtcTicks;
        if (_confirmationQueue.Min.Ticks > now) return;
        var due = new List<long>();
        foreach (var (ticks, number) in _confirmationQueue)
        {
            if (ticks > now) break;
            due.Add(number);
        }

        HashSet<string>? fired = null;
        foreach (var number in due)
        {
            if (!_orders.TryGetValue(number, out var order) || order.Phase != OrderPhase.Confirming || IsHalted(order.Symbol)) continue;
            if (QuoteOf(order.Symbol).Of(order.Spec.TriggerBy) is not { } watched) continue;
            if (OrderRules.Holds(order.FireDirection, watched, order.TriggerPrice!.Value))
            {
                Trigger(order, watched);
                (fired ??= new HashSet<string>(StringComparer.Ordinal)).Add(order.Symbol);
            }
            else
            {
                Emit(new TriggerConfirmationFailed(number, watched) { At = _now, Account = order.Account });
            }
        }

        // A stop-limit that fired may already be past its fallback's worst price.
        if (fired is not null && _fallbackWatches.Count != 0)
            foreach (var symbol in fired.Order(StringComparer.Ordinal))
                CheckFallbackWatch(symbol);
    }
}
