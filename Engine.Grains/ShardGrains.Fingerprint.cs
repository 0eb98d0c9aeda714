using System.Globalization;
using System.Text;
using System.Text.Json;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Orders;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    private static readonly JsonSerializerOptions FingerprintJson = new();

    /// <summary>
    /// A canonical text dump of the whole state (prices excluded), one fact per line, sorted wherever
    /// the state itself has no order: two shards with equal fingerprints hold equal state. Decimals keep
    /// their scale (1.5 and 1.50 differ). Trigger books are listed entry by entry in insertion order,
    /// which is the order equal triggers fire in. The good-till-date queue is listed as the expiries that
    /// are still due (live order, matching time); its stale entries are an artefact of lazy deletion.
    /// For tests and diagnostics: its size is proportional to the state.
    /// </summary>
    internal string Fingerprint()
    {
        var sb = new StringBuilder();
        sb.Append("shard nextOrder=").Append(NextOrderNumber).Append(" nextFill=").Append(NextFillNumber)
            .Append(" nextPositionKey=").Append(NextPositionKey).Append('\n');

        foreach (var account in _accounts.Values.OrderBy(a => a.Id.Value, StringComparer.Ordinal))
            AppendAccount(sb, account);

        foreach (var order in _orders.Values.OrderBy(o => o.Number))
            AppendOrder(sb, order);

        foreach (var (parent, children) in _children.OrderBy(kv => kv.Key))
            sb.Append("children ").Append(parent).Append(" [").AppendJoin(',', children).Append("]\n");

        foreach (var ((bucket, symbol), exits) in _exits.OrderBy(kv => kv.Key.Bucket.Value, StringComparer.Ordinal).ThenBy(kv => kv.Key.Symbol, StringComparer.Ordinal))
            sb.Append("exits ").Append(bucket.Value).Append(' ').Append(symbol).Append(" [").AppendJoin(',', exits.Order()).Append("]\n");

        var due = _expiries.UnorderedItems
            .Where(e => _orders.TryGetValue(e.Element, out var o) && o.IsLive && o.Spec.ExpireAt == e.Priority)
            .Select(e => (e.Element, e.Priority))
            .Distinct()
            .OrderBy(e => e.Priority)
            .ThenBy(e => e.Element);
        foreach (var (number, at) in due) sb.Append("expiry ").Append(number).Append(' ').Append(Time(at)).Append('\n');

        AppendPlans(sb);
        AppendCopy(sb);

        foreach (var (key, position) in _positionsByKey.OrderBy(kv => kv.Key))
            sb.Append("positionKey ").Append(key).Append(' ').Append(position.Bucket.Value).Append(' ').Append(position.Symbol).Append('\n');

        foreach (var ((symbol, source), book) in _books.Where(kv => kv.Value.Count != 0).OrderBy(kv => kv.Key.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item2))
        {
            sb.Append("book ").Append(symbol).Append(' ').Append(source).Append(" count=").Append(book.Count)
                .Append(" levels=").Append(book.LevelCount).Append(" trailing=").Append(book.TrailingCount).Append(" [");
            var first = true;
            foreach (var entry in EntriesOf(book))
            {
                if (!first) sb.Append(' ');
                first = false;
                sb.Append(entry.Key).Append(':').Append(entry.Kind);
                if (book.TrailingExtreme(entry.Key) is { } extreme) sb.Append('@').Append(Num(extreme));
            }

            sb.Append("]\n");
        }

        AppendRisk(sb);
        return sb.ToString();
    }

    /// <summary>The risk controls' shard state and the indexes derived from it.</summary>
    private void AppendRisk(StringBuilder sb)
    {
        foreach (var (symbol, h) in _halts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append("halt ").Append(symbol).Append(" reason=").Append(h.Reason).Append(" since=").Append(Time(h.Since)).Append(" until=").Append(Time(h.Until)).Append('\n');
        // The queue's entries of confirmations that ended otherwise are an artefact of lazy deletion:
        // what is due is every confirming order, at its end.
        var queued = _confirmationQueue.UnorderedItems.Select(e => e.Element).ToHashSet();
        foreach (var (order, c) in _confirming.OrderBy(kv => kv.Value.Until.UtcTicks).ThenBy(kv => kv.Key))
            sb.Append("confirming ").Append(order).Append(" price=").Append(Num(c.Price)).Append(" until=").Append(Time(c.Until))
                .Append(queued.Contains(order) ? "" : " NOT QUEUED").Append('\n');
        foreach (var (ticks, account) in _deadManSwitches) sb.Append("deadManSwitch ").Append(account).Append(' ').Append(ticks).Append('\n');
        sb.Append("lossLimited [").AppendJoin(',', _lossLimited.Keys).Append("]\n");
        foreach (var (symbol, buckets) in _pendingCloses.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append("pendingCloses ").Append(symbol).Append(" [").AppendJoin(',', buckets).Append("]\n");
        foreach (var (symbol, watch) in _fallbackWatches.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append("fallbackWatch ").Append(symbol).Append(" [").AppendJoin(',', watch.Entries.Select(e => $"{e.Order}:{(e.Sell ? "sell" : "buy")}@{Num(e.Level)}")).Append("]\n");
        foreach (var (ticks, order) in _fallbackDeadlines) sb.Append("fallbackDeadline ").Append(order).Append(' ').Append(ticks).Append('\n');
    }

    private static void AppendAccount(StringBuilder sb, Account a)
    {
        var id = a.Id.Value;
        sb.Append("account ").Append(id).Append(" name=").Append(a.Name).Append(" apiKeyHash=").Append(a.ApiKeyHash)
            .Append(" wallet=").Append(Num(a.WalletBalance)).Append(" manual=").Append(a.ManualBucket.Value)
            .Append(" bucketCount=").Append(a.BucketCount).Append(" listCount=").Append(a.ListCount)
            .Append(" eventSequence=").Append(a.EventSequence)
            .Append(" killSwitch=").Append(a.KillSwitch).Append(" cancelAllAfter=").Append(Time(a.CancelAllAfter)).Append('\n');
        foreach (var b in a.Buckets)
        {
            sb.Append(id).Append(" bucket ").Append(b.Id.Value).Append(" name=").Append(b.Name).Append(" kind=").Append(b.Kind)
                .Append(" balance=").Append(Num(b.Balance)).Append(" realized=").Append(Num(b.RealizedPnl)).Append(" killSwitch=").Append(b.KillSwitch)
                .Append(" lossLimit=").Append(Num(b.DailyLossLimit)).Append(" lossBaseline=").Append(Num(b.LossBaseline)).Append(" lossDay=").Append(Time(b.LossDay))
                .Append(" lossLocked=").Append(b.LossLocked).Append('\n');
            foreach (var (symbol, p) in b.Positions.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                sb.Append(id).Append(" position ").Append(b.Id.Value).Append(' ').Append(symbol).Append(" key=").Append(p.Key)
                    .Append(" bucket=").Append(p.Bucket.Value).Append(" symbol=").Append(p.Symbol)
                    .Append(" qty=").Append(Num(p.Quantity)).Append(" entry=").Append(Num(p.EntryPrice)).Append(" leverage=").Append(p.Leverage)
                    .Append(" margin=").Append(Num(p.Margin)).Append(" liquidation=").Append(Num(p.LiquidationPrice)).Append('\n');
            }

            foreach (var (symbol, leverage) in b.Leverage.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                sb.Append(id).Append(" leverage ").Append(b.Id.Value).Append(' ').Append(symbol).Append('=').Append(leverage).Append('\n');
        }

        sb.Append(id).Append(" live [").AppendJoin(',', a.LiveOrders.Order()).Append("]\n");
        sb.Append(id).Append(" recentDone [").AppendJoin(',', a.RecentDoneOrders).Append("]\n");
        sb.Append(id).Append(" clientIdQueue [").AppendJoin(',', a.ClientOrderIdOrder).Append("]\n");
        foreach (var (cid, (order, bodyHash)) in a.ClientOrderIds.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append(id).Append(" clientId ").Append(cid).Append(" order=").Append(order).Append(" bodyHash=").Append(bodyHash ?? "-").Append('\n');
        foreach (var (key, list) in a.Lists.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.Append(id).Append(" list ").Append(key).Append(" id=").Append(list.Id.Value).Append(" type=").Append(list.Type)
                .Append(" orders=[").AppendJoin(',', list.Orders).Append("] clientId=").Append(list.ClientOrderId ?? "-")
                .Append(" bodyHash=").Append(list.BodyHash ?? "-").Append('\n');
        }

        sb.Append(id).Append(" idempotencyQueue [").AppendJoin(',', a.IdempotencyOrder).Append("]\n");
        foreach (var (key, r) in a.Idempotency.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append(id).Append(" idempotency ").Append(key).Append(" bodyHash=").Append(r.BodyHash).Append(" status=").Append(r.Status).Append(" body=").Append(r.Body).Append('\n');
        foreach (var f in a.Fills)
        {
            sb.Append(id).Append(" fill ").Append(f.Number).Append(" order=").Append(f.Order?.ToString(CultureInfo.InvariantCulture) ?? "-")
                .Append(" bucket=").Append(f.Bucket.Value).Append(" symbol=").Append(f.Symbol).Append(" side=").Append(f.Side)
                .Append(" qty=").Append(Num(f.Quantity)).Append(" price=").Append(Num(f.Price)).Append(" fee=").Append(Num(f.Fee))
                .Append(" realized=").Append(Num(f.RealizedPnl)).Append(" liquidity=").Append(f.Liquidity).Append(" at=").Append(Time(f.At)).Append('\n');
        }

        foreach (var e in a.Events)
            sb.Append(id).Append(" event ").Append(e.Sequence).Append(' ').Append(JsonSerializer.Serialize<EngineEvent>(e.Event, FingerprintJson)).Append('\n');
    }

    private void AppendOrder(StringBuilder sb, Order o)
    {
        var s = o.Spec;
        sb.Append("order ").Append(o.Number).Append(" account=").Append(o.Account.Value)
            .Append(" | spec bucket=").Append(s.Bucket.Value).Append(" symbol=").Append(s.Symbol).Append(" side=").Append(s.Side)
            .Append(" type=").Append(s.Type).Append(" qty=").Append(Num(s.Quantity)).Append(" price=").Append(Num(s.Price))
            .Append(" trigger=").Append(Num(s.TriggerPrice)).Append(" by=").Append(s.TriggerBy).Append(" rate=").Append(Num(s.CallbackRate))
            .Append(" amount=").Append(Num(s.CallbackAmount)).Append(" activation=").Append(Num(s.ActivationPrice)).Append(" tif=").Append(s.TimeInForce)
            .Append(" expireAt=").Append(Time(s.ExpireAt)).Append(" reduceOnly=").Append(s.ReduceOnly).Append(" closePosition=").Append(s.ClosePosition)
            .Append(" clientId=").Append(s.ClientOrderId ?? "-").Append(" list=").Append(s.List?.Value ?? "-")
            .Append(" parent=").Append(s.Parent?.ToString(CultureInfo.InvariantCulture) ?? "-")
            .Append(" oco=").Append(s.OcoSibling?.ToString(CultureInfo.InvariantCulture) ?? "-")
            .Append(" parentDistance=").Append(Num(s.ParentDistance)).Append(" sizeFromParent=").Append(s.SizeFromParent)
            .Append(" confirmation=").Append(s.TriggerConfirmation?.Ticks.ToString(CultureInfo.InvariantCulture) ?? "-")
            .Append(" fallback=").Append(s.Fallback is { } fb ? $"{fb.After?.Ticks.ToString(CultureInfo.InvariantCulture) ?? "-"}/{Num(fb.WorstPrice)}/{fb.Action}" : "-")
            .Append(" | status=").Append(o.Status).Append(" phase=").Append(o.Phase).Append(" qty=").Append(Num(o.Quantity))
            .Append(" price=").Append(Num(o.Price)).Append(" trigger=").Append(Num(o.TriggerPrice)).Append(" rate=").Append(Num(o.CallbackRate))
            .Append(" amount=").Append(Num(o.CallbackAmount)).Append(" filled=").Append(Num(o.FilledQuantity)).Append(" avg=").Append(Num(o.AverageFillPrice))
            .Append(" triggeredPrice=").Append(Num(o.TriggeredPrice)).Append(" triggeredAt=").Append(Time(o.TriggeredAt))
            .Append(" reason=").Append(o.Reason ?? "-").Append(" created=").Append(Time(o.CreatedAt)).Append(" updated=").Append(Time(o.UpdatedAt));
        var source = o.Phase == OrderPhase.Resting ? Pricing.TriggerSource.Index : s.TriggerBy;
        if (_books.TryGetValue((o.Symbol, source), out var book) && book.Contains(o.Number))
        {
            sb.Append(" | inBook=").Append(source);
            if (book.TrailingExtreme(o.Number) is { } extreme) sb.Append(" extreme=").Append(Num(extreme));
        }

        sb.Append('\n');
    }

    private static string Num(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Num(decimal? value) => value is { } v ? Num(v) : "-";

    private static string Time(DateTimeOffset value) => value.ToString("O", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset? value) => value is { } v ? Time(v) : "-";
}
