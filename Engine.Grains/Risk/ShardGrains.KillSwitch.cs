using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;

namespace Engine.Grains;

/// <summary>What a kill switch (or a loss lock) did: orders cancelled, positions closed, positions left to close.</summary>
public sealed record FlattenOutcome(int CancelledOrders, int ClosedPositions, int PendingPositions);

public sealed partial class ShardGrains
{
    private CommandResult Decide(EngageKillSwitch c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        Bucket? bucket = null;
        if (c.Bucket is { } id && (bucket = account.FindBucket(id)) is null) return Reject(Rejection.NotFound("bucket not found"));
        var engaged = bucket?.KillSwitch ?? account.KillSwitch;
        if (!engaged) Emit(new KillSwitchEngaged(bucket?.Id) { At = _now, Account = account.Id });
        // Engaging it again sweeps again: nothing can have been added, but a close that had to wait may go now.
        return Ok(Flatten(account, bucket is null ? account.Buckets.ToArray() : [bucket], OrderReasons.KillSwitch));
    }

    private CommandResult Decide(ReleaseKillSwitch c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        Bucket? bucket = null;
        if (c.Bucket is { } id && (bucket = account.FindBucket(id)) is null) return Reject(Rejection.NotFound("bucket not found"));
        if (bucket?.KillSwitch ?? account.KillSwitch) Emit(new KillSwitchReleased(bucket?.Id) { At = _now, Account = account.Id });
        return Ok(new FlattenOutcome(0, 0, 0));
    }

    /// <summary>
    /// Cancels every live order of <paramref name="buckets"/> with <paramref name="reason"/> (in order
    /// number order; pending children go with their parents) and closes every position with a reduce-only
    /// market order. A position whose symbol is halted or has no price yet stays: it is closed as soon as
    /// its symbol trades (see <see cref="ClosePending"/>). The buckets are already locked.
    /// </summary>
    private FlattenOutcome Flatten(Account account, Bucket[] buckets, string reason)
    {
        var scope = buckets.Select(b => b.Id).ToHashSet();
        var targets = account.LiveOrders.Select(n => _orders[n]).Where(o => scope.Contains(o.Bucket)).OrderBy(o => o.Number).ToList();
        var before = _out.Count;
        foreach (var order in targets)
            if (order.IsLive)
                Finish(order, new OrderCancelled(order.Number, reason) { At = _now, Account = account.Id });
        var cancelled = 0;
        for (var i = before; i < _out.Count; i++)
            if (_out[i] is OrderCancelled) cancelled++;

        var closed = 0;
        var pending = 0;
        foreach (var bucket in buckets)
            foreach (var symbol in bucket.Positions.Keys.Order(StringComparer.Ordinal).ToArray())
                if (CloseLockedPosition(account, bucket, symbol)) closed++;
                else pending++;
        return new FlattenOutcome(cancelled, closed, pending);
    }

    /// <summary>Closes a locked bucket's position now if its symbol trades; true when it is gone.</summary>
    private bool CloseLockedPosition(Account account, Bucket bucket, string symbol)
    {
        if (!bucket.Positions.TryGetValue(symbol, out var position)) return true;
        if (IsHalted(symbol)) return false;
        var instrument = InstrumentOf(symbol);
        var side = position.Quantity > 0 ? OrderSide.Sell : OrderSide.Buy;
        var quantity = Math.Abs(position.Quantity);
        if (Venue.MarketFillPrice(instrument, side, quantity, QuoteOf(symbol)) is null) return false;
        var spec = new OrderSpec
        {
            Number = NextOrderNumber,
            Bucket = bucket.Id,
            Symbol = instrument.Symbol,
            Side = side,
            Type = OrderType.Market,
            Quantity = quantity,
            ReduceOnly = true,
        };
        Accept(account, spec, null);
        return !bucket.Positions.ContainsKey(symbol);
    }

    /// <summary>A locked bucket's positions in <paramref name="symbol"/> that had to wait (halt, no price) close now.</summary>
    private void ClosePending(string symbol)
    {
        if (!_pendingCloses.TryGetValue(symbol, out var buckets) || IsHalted(symbol)) return;
        foreach (var id in buckets.ToArray())
        {
            var bucketId = new BucketId(id);
            var account = _accounts[AccountOfBucket(bucketId)];
            CloseLockedPosition(account, account.FindBucket(bucketId)!, symbol);
        }
    }
}
