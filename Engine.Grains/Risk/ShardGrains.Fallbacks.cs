using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Risk;

namespace Engine.Grains;

/// <remarks>
/// Stop-limit gap fallback: a triggered stop-limit or take-profit-limit whose limit rests unfilled
/// is converted to a market order (or cancelled, as its fallback says) when it has rested for the
/// fallback's time since its trigger, or when the index (what resting limits fill against) runs past
/// the fallback's worst price. The watches are derived from the orders (phase, trigger time, spec),
/// so replay and restore rebuild them through <see cref="Index"/>.
/// </remarks>
public sealed partial class ShardGrains
{
    /// <summary>Longest fallback time.</summary>
    public static readonly TimeSpan MaxFallbackAfter = TimeSpan.FromDays(1);

    private void WatchFallback(Order order)
    {
        var fallback = order.Spec.Fallback!;
        if (fallback.WorstPrice is { } worst)
        {
            if (!_fallbackWatches.TryGetValue(order.Symbol, out var watch)) _fallbackWatches[order.Symbol] = watch = new FallbackWatch();
            watch.Add(order.Number, order.Side == OrderSide.Sell, worst);
        }

        if (fallback.After is { } after) _fallbackDeadlines.Add(((order.TriggeredAt!.Value + after).UtcTicks, order.Number));
    }

    private void UnwatchFallback(Order order)
    {
        var fallback = order.Spec.Fallback!;
        if (fallback.WorstPrice is { } worst && _fallbackWatches.TryGetValue(order.Symbol, out var watch))
        {
            watch.Remove(order.Number, order.Side == OrderSide.Sell, worst);
            if (watch.Count == 0) _fallbackWatches.Remove(order.Symbol);
        }

        if (fallback.After is { } after && order.TriggeredAt is { } at) _fallbackDeadlines.Remove(((at + after).UtcTicks, order.Number));
    }

    /// <summary>Triggered stop-limits of <paramref name="symbol"/> whose worst price the index has reached.</summary>
    private void CheckFallbackWatch(string symbol)
    {
        if (!_fallbackWatches.TryGetValue(symbol, out var watch) || IsHalted(symbol)) return;
        if (QuoteOf(symbol).Index is not { } index || watch.Reached(index) is not { } reached) return;
        foreach (var number in reached)
            if (_orders.TryGetValue(number, out var order) && order.Phase == OrderPhase.Resting)
                FallBack(order, OrderReasons.FallbackWorstPrice);
    }

    /// <summary>Triggered stop-limits that rested unfilled for their fallback's time (a halted symbol's wait for the resume).</summary>
    private void ResolveFallbackDeadlines()
    {
        var now = _now.UtcTicks;
        if (_fallbackDeadlines.Min.Ticks > now) return;
        var due = new List<long>();
        foreach (var (ticks, number) in _fallbackDeadlines)
        {
            if (ticks > now) break;
            due.Add(number);
        }

        foreach (var number in due)
            if (_orders.TryGetValue(number, out var order) && order.Phase == OrderPhase.Resting && !IsHalted(order.Symbol))
                FallBack(order, OrderReasons.FallbackTimeout);
    }

    private void FallBack(Order order, string reason)
    {
        if (order.Spec.Fallback!.Action == FallbackAction.Cancel)
        {
            Finish(order, new OrderCancelled(order.Number, reason) { At = _now, Account = order.Account });
            return;
        }

        Emit(new OrderConvertedToMarket(order.Number, reason) { At = _now, Account = order.Account });
        ExecuteMarket(order);
    }
}
