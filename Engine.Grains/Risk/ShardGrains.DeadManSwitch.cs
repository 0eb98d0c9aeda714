using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    /// <summary>Longest dead man's switch timeout, in seconds (a day).</summary>
    public const int MaxCancelAllAfterSeconds = 86_400;

    private CommandResult Decide(SetCancelAllAfter c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (c.TimeoutSeconds < 0 || c.TimeoutSeconds > MaxCancelAllAfterSeconds)
            return Reject(Rejection.Invalid("invalid_timeout_seconds", $"timeoutSeconds must be 0 (disarm) to {MaxCancelAllAfterSeconds}"));
        if (c.TimeoutSeconds == 0)
        {
            if (account.CancelAllAfter is not null) Emit(new CancelAllAfterSet(null) { At = _now, Account = account.Id });
            return Ok(null);
        }

        var deadline = _now.AddSeconds(c.TimeoutSeconds);
        Emit(new CancelAllAfterSet(deadline) { At = _now, Account = account.Id });
        return Ok(deadline);
    }

    /// <summary>
    /// Every dead man's switch whose deadline has come fires (by deadline, then account id): the
    /// account's entry orders are cancelled; its protective orders (reduce-only, close-position) stay,
    /// so no position is left without its stop. Pending exits of a cancelled entry go with it.
    /// </summary>
    private void FireDeadManSwitches()
    {
        var now = _now.UtcTicks;
        while (_deadManSwitches.Count != 0 && _deadManSwitches.Min is var (ticks, id) && ticks <= now)
        {
            var account = _accounts[new AccountId(id)];
            Emit(new CancelAllAfterTriggered(account.CancelAllAfter!.Value) { At = _now, Account = account.Id });
            var entries = account.LiveOrders.Select(n => _orders[n])
                .Where(o => !o.Spec.ReduceOnly && !o.Spec.ClosePosition)
                .OrderBy(o => o.Number)
                .ToList();
            foreach (var order in entries)
                if (order.IsLive)
                    Finish(order, new OrderCancelled(order.Number, OrderReasons.CancelAllAfter) { At = _now, Account = account.Id });
        }
    }
}
