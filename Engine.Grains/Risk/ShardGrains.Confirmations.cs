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
        if (!_confirmationQueue.TryPeek(out _, out var first) || first.Ticks > now) return;
        var due = new List<long>();
        List<long>? waiting = null;
        while (_confirmationQueue.TryPeek(out var number, out var at) && at.Ticks <= now)
        {
            _confirmationQueue.Dequeue();
            // Skipped: a confirmation that ended otherwise, or the same end queued twice (a confirmation that
            // failed and started again at the same moment).
            if (!_confirming.TryGetValue(number, out var c) || c.Until.UtcTicks != at.Ticks || (due.Count > 0 && due[^1] == number)) continue;
            due.Add(number);
        }

        HashSet<string>? fired = null;
        foreach (var number in due)
        {
            if (!_orders.TryGetValue(number, out var order) || order.Phase != OrderPhase.Confirming) continue;
            if (IsHalted(order.Symbol) || QuoteOf(order.Symbol).Of(order.Spec.TriggerBy) is not { } watched)
            {
                // Judged when its symbol trades again (the resume, or the first price after a restart).
                (waiting ??= []).Add(number);
                continue;
            }

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

        if (waiting is not null)
            foreach (var number in waiting)
                if (_confirming.TryGetValue(number, out var c))
                    _confirmationQueue.Enqueue(number, (c.Until.UtcTicks, number));

        // A stop-limit that fired may already be past its fallback's worst price.
        if (fired is not null && _fallbackWatches.Count != 0)
            foreach (var symbol in fired.Order(StringComparer.Ordinal))
                CheckFallbackWatch(symbol);
    }
}
