using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;

namespace Engine.Silo.Persistence;

/// <summary>
/// The binary form of a <see cref="ShardSnapshot"/>: compact, and fast enough to write and read a
/// shard with millions of orders in seconds. The snapshot store adds its own header and checksum.
/// </summary>
/// <remarks>
/// <para>Layout (BinaryWriter conventions, little-endian; "n" is a 7-bit encoded count):</para>
/// <code>
/// magic "ESHS" (4 bytes) · format version (uint16)
/// NextOrderNumber, NextFillNumber, NextPositionKey (int64 each)
/// n accounts · n orders, n indexed orders, orders · n children · n expiries · n plans (format 3)
/// n halts · n confirmations                       (format 4)
/// end marker "SHSE" (4 bytes)
/// </code>
/// <para>
/// Numbers: order, fill and position numbers and counters are 7-bit encoded. A decimal is a head byte
/// (bits 0-4 scale, 0x40 the high 32 bits of the mantissa follow, 0x80 negative; 0x20 alone is null)
/// then the low 64 bits of the mantissa 7-bit encoded, then the high 32 bits 7-bit encoded when
/// flagged: the exact bits of <see cref="decimal.GetBits(decimal)"/>, scale and sign of zero included,
/// in 2 to 4 bytes for typical prices. A time is its clock ticks (int64) and offset minutes (int16).
/// Enums are one byte.
/// </para>
/// <para>
/// Strings that repeat (account, bucket and list ids, symbols, reasons, bucket names, rejection codes)
/// go through a table built while writing: a 7-bit index where 0 is null, k is the k-th string seen,
/// and the next unused index is followed by the new string. Other strings are written inline, with a
/// presence byte where they are optional.
/// </para>
/// <para>
/// An order is its spec (flags for its optional fields and booleans, then the fields present) and
/// its state: flags, account, status, phase, times, trailing extreme, then only those fields of its
/// progress that differ, bit for bit, from the order as accepted. Orders come in the order
/// <see cref="ShardSnapshot.Orders"/> has them (book by book, in insertion order), which restores the
/// trigger books' tie order. Recent events are encoded per type with a one-byte tag; an event type
/// this codec does not know cannot be written (<see cref="NotSupportedException"/>).
/// </para>
/// <para>
/// Any change to the layout bumps <see cref="FormatVersion"/>; <see cref="Read"/> rejects versions it
/// does not know, so a snapshot is never misread. Version 2 (no plans yet) still reads, as a shard
/// without plans. Plans and their events are encoded in <c>ShardSnapshotCodec.Plans.cs</c>.
/// </para>
/// <para>
/// Format 4 (risk controls, on top of format 3's plans) adds, to each bucket, its kill switch and daily
/// loss limit state (where earlier formats had a "locked" flag that nothing set), to each account its
/// kill switch and dead man's switch deadline (after its events), and the shard's halts and trigger
/// confirmations (after the plans). Format 2 and 3 snapshots still read, with none of that state. Order specs carry their risk
/// options under a new spec flag, so older records and snapshots (which never set it) read unchanged.
/// Format 5 adds copy trading's strategies and subscriptions after the confirmations (see
/// <c>ShardSnapshotCodec.Copy.cs</c>); formats 2 to 4 read with none.
/// </para>
/// </remarks>
public static partial class ShardSnapshotCodec
{
    /// <summary>
    /// The format version this build writes (1 was an interim order layout, never read now; 2 had no
    /// plans; 3 had plans but no risk controls; 4 had no copy trading).
    /// </summary>
    public const ushort FormatVersion = 5;

    /// <summary>The oldest format version this build still reads.</summary>
    private const ushort OldestReadableVersion = 2;

    private const uint Magic = 0x53485345; // "ESHS" little-endian
    private const uint EndMarker = 0x45534853; // "SHSE" little-endian
    private const int BufferBytes = 1 << 16;

    /// <summary>Writes <paramref name="snapshot"/> to <paramref name="stream"/>; leaves the stream open.</summary>
    public static void Write(Stream stream, ShardSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(snapshot);
        // Not disposed: disposing would close the caller's stream; flushing is all it needs.
        var buffered = new BufferedStream(stream, BufferBytes);
        using (var binary = new BinaryWriter(buffered, Encoding.UTF8, leaveOpen: true))
        {
            new Writer(binary).Snapshot(snapshot);
            binary.Flush();
        }

        buffered.Flush();
    }

    /// <summary>
    /// Reads a snapshot written by <see cref="Write"/>. A seekable stream is left just after the end
    /// marker; a non-seekable one may have been read further.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The stream is not a shard snapshot, has another format version, is truncated or is corrupt.
    /// </exception>
    public static ShardSnapshot Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffered = new BufferedStream(stream, BufferBytes);
        using var binary = new BinaryReader(buffered, Encoding.UTF8, leaveOpen: true);
        try
        {
            var snapshot = new Reader(binary, buffered, stream.CanSeek ? stream.Length : -1).Snapshot();
            if (stream.CanSeek) stream.Position = buffered.Position;
            return snapshot;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The shard snapshot is truncated.", e);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or DecoderFallbackException)
        {
            throw new InvalidDataException($"The shard snapshot is corrupt: {e.Message}", e);
        }
    }

    /// <summary>Tags of the shard-level events, next to the account events' tags (never renumbered).</summary>
    private const byte TrailingMovedTag = 20;
    private const byte SymbolHaltedTag = 29;
    private const byte SymbolResumedTag = 30;

    /// <summary>
    /// Writes one event as a journal record's body: the same per-type encoding as the snapshot's
    /// recent history, with its own string table (so a record stands alone).
    /// </summary>
    public static void WriteEvent(BinaryWriter writer, EngineEvent e) => new Writer(writer).JournalEvent(e);

    /// <summary>
    /// Writes events one after another as <see cref="WriteEvent"/> does, reusing its string table
    /// (cleared per event, so each record still stands alone) instead of allocating one per event.
    /// </summary>
    public sealed class EventWriter(BinaryWriter writer)
    {
        private readonly Writer _writer = new(writer);

        public void Write(EngineEvent e)
        {
            _writer.BeginRecord();
            _writer.JournalEvent(e);
        }
    }

    /// <summary>Reads one event written by <see cref="WriteEvent"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an event of this format.</exception>
    public static EngineEvent ReadEvent(BinaryReader reader)
    {
        try
        {
            return new Reader(reader, reader.BaseStream, -1).JournalEvent();
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or FormatException or OverflowException or DecoderFallbackException)
        {
            throw new InvalidDataException($"The journal record is corrupt: {e.Message}", e);
        }
    }

    /// <summary>The account event types the codec can encode (recent history carries them).</summary>
    public static IReadOnlyCollection<Type> EncodableEventTypes => EventTags.Keys;

    private static readonly Dictionary<Type, byte> EventTags = new()
    {
        [typeof(AccountOpened)] = 1,
        [typeof(FundsDeposited)] = 2,
        [typeof(FundsWithdrawn)] = 3,
        [typeof(BucketCreated)] = 4,
        [typeof(FundsTransferred)] = 5,
        [typeof(LeverageSet)] = 6,
        [typeof(CommandRejected)] = 7,
        [typeof(IdempotentResponseRecorded)] = 8,
        [typeof(OrderAccepted)] = 9,
        [typeof(OrderListAccepted)] = 10,
        [typeof(OrderActivated)] = 11,
        [typeof(TrailingStopActivated)] = 12,
        [typeof(OrderTriggered)] = 13,
        [typeof(OrderFilled)] = 14,
        [typeof(OrderAmended)] = 15,
        [typeof(OrderCancelled)] = 16,
        [typeof(OrderExpired)] = 17,
        [typeof(OrderRejected)] = 18,
        [typeof(PositionLiquidated)] = 19,
        // 20 is TrailingExtremesMoved (a shard event, see TrailingMovedTag).
        [typeof(PlanCreated)] = PlanCreatedTag,
        [typeof(PlanArmed)] = 22,
        [typeof(PlanArmSkipped)] = 23,
        [typeof(PlanDisarmed)] = 24,
        [typeof(PlanFlattened)] = 25,
        [typeof(PlanCompleted)] = 26,
        [typeof(PlanRescheduled)] = 27,
        [typeof(PlanCancelled)] = PlanCancelledTag,
        // 29 and 30 are the symbol halts (shard events, see SymbolHaltedTag).
        [typeof(KillSwitchEngaged)] = 31,
        [typeof(KillSwitchReleased)] = 32,
        [typeof(CancelAllAfterSet)] = 33,
        [typeof(CancelAllAfterTriggered)] = 34,
        [typeof(DailyLossLimitSet)] = 35,
        [typeof(DailyLossLimitReached)] = 36,
        [typeof(DailyLossLockReleased)] = 37,
        [typeof(BucketDayStarted)] = 38,
        [typeof(TriggerConfirmationStarted)] = 39,
        [typeof(TriggerConfirmationFailed)] = 40,
        [typeof(OrderConvertedToMarket)] = 41,
        [typeof(StrategyPublished)] = StrategyPublishedTag,
        [typeof(StrategyClosed)] = 43,
        [typeof(CopyFollowerAdded)] = 44,
        [typeof(CopyFollowerRemoved)] = 45,
        [typeof(CopySignalEmitted)] = 46,
        [typeof(CopySignalAcknowledged)] = 47,
        [typeof(CopySubscribed)] = 48,
        [typeof(CopyOutcomeRecorded)] = 49,
        [typeof(CopySubscriptionEnded)] = CopySubscriptionEndedTag,
    };

    // Spec flags.
    private const int SpecPrice = 1 << 0;
    private const int SpecTrigger = 1 << 1;
    private const int SpecRate = 1 << 2;
    private const int SpecAmount = 1 << 3;
    private const int SpecActivation = 1 << 4;
    private const int SpecExpireAt = 1 << 5;
    private const int SpecClientId = 1 << 6;
    private const int SpecList = 1 << 7;
    private const int SpecParent = 1 << 8;
    private const int SpecOco = 1 << 9;
    private const int SpecDistance = 1 << 10;
    private const int SpecReduceOnly = 1 << 11;
    private const int SpecClosePosition = 1 << 12;
    private const int SpecSizeFromParent = 1 << 13;
    private const int SpecRisk = 1 << 14;

    // Risk spec flags (one byte after the spec's other fields, when SpecRisk is set).
    private const byte RiskConfirmation = 1 << 0;
    private const byte RiskFallback = 1 << 1;
    private const byte RiskFallbackAfter = 1 << 2;
    private const byte RiskFallbackWorst = 1 << 3;

    // Order state flags: which fields of the progress differ from the spec or their defaults, which
    // optional fields are present.
    private const int StateQuantity = 1 << 0;
    private const int StatePrice = 1 << 1;
    private const int StateTrigger = 1 << 2;
    private const int StateRate = 1 << 3;
    private const int StateAmount = 1 << 4;
    private const int StateFilled = 1 << 5;
    private const int StateTriggeredPrice = 1 << 6;
    private const int StateTriggeredAt = 1 << 7;
    private const int StateReason = 1 << 8;
    private const int StateUpdated = 1 << 9;
    private const int StateExtreme = 1 << 10;
    private const int StateProgress = StateQuantity | StatePrice | StateTrigger | StateRate | StateAmount | StateFilled
        | StateTriggeredPrice | StateTriggeredAt | StateReason;

    private const byte DecimalNull = 0x20;
    private const byte DecimalHigh = 0x40;
    private const byte DecimalNegative = 0x80;
    private const byte DecimalScale = 0x1F;

    private static bool Same(decimal a, decimal b) => a == b && a.Scale == b.Scale && decimal.IsNegative(a) == decimal.IsNegative(b);

    private static bool Same(decimal? a, decimal? b) => a is { } x ? b is { } y && Same(x, y) : b is null;

    private static bool IsZero(decimal d) => Same(d, 0m);

    // The per-order methods below run once per snapshot over millions of orders, mostly in a process
    // that just started (recovery): they are compiled optimized at once instead of starting in tier 0.
    private sealed partial class Writer(BinaryWriter w)
    {
        private readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);
        private string? _lastString;
        private int _lastIndex;

        // A journal record has its own string table of a few entries (account, bucket, symbol, ...): a linear
        // scan finds them faster than hashing each, and clearing it costs nothing.
        private readonly List<string> _recordStrings = new(16);
        private bool _perRecord;

        /// <summary>Starts one journal record: its strings are numbered from 1 again.</summary>
        public void BeginRecord()
        {
            _perRecord = true;
            _recordStrings.Clear();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Snapshot(ShardSnapshot s)
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write(s.NextOrderNumber);
            w.Write(s.NextFillNumber);
            w.Write(s.NextPositionKey);

            Count(s.Accounts.Length);
            foreach (var a in s.Accounts) Account(a);

            if (s.IndexedOrders < 0 || s.IndexedOrders > s.Orders.Length)
                throw new ArgumentException($"IndexedOrders {s.IndexedOrders} is outside 0..{s.Orders.Length}", nameof(s));
            Count(s.Orders.Length);
            Count(s.IndexedOrders);
            var orders = s.Orders;
            for (var i = 0; i < orders.Length; i++) Order(in orders[i]);

            Count(s.Children.Length);
            foreach (var c in s.Children)
            {
                Varint(c.Parent);
                Numbers(c.Children);
            }

            Count(s.Expiries.Length);
            foreach (var e in s.Expiries)
            {
                Varint(e.Order);
                Time(e.At);
            }

            Count(s.Plans.Length);
            foreach (var plan in s.Plans) Plan(plan);

            Count(s.Halts.Length);
            foreach (var h in s.Halts)
            {
                Shared(h.Symbol);
                Shared(h.Reason);
                Time(h.Since);
                OptionalTime(h.Until);
            }

            Count(s.Confirmations.Length);
            foreach (var c in s.Confirmations)
            {
                Varint(c.Order);
                Decimal(c.Price);
                Time(c.Until);
            }

            Count(s.Strategies.Length);
            foreach (var strategy in s.Strategies) Strategy(strategy);
            Count(s.Subscriptions.Length);
            foreach (var subscription in s.Subscriptions) Subscription(subscription);

            w.Write(EndMarker);
        }

        private void Account(AccountSnapshot a)
        {
            Shared(a.Id.Value);
            w.Write(a.Name);
            w.Write(a.ApiKeyHash);
            Decimal(a.WalletBalance);
            Shared(a.ManualBucket.Value);
            Varint(a.BucketCount);
            Varint(a.ListCount);
            Varint(a.EventSequence);

            Count(a.Buckets.Length);
            foreach (var b in a.Buckets)
            {
                Shared(b.Id.Value);
                Shared(b.Name);
                Enum((int)b.Kind);
                Decimal(b.Balance);
                Decimal(b.RealizedPnl);
                w.Write(b.KillSwitch);
                Decimal(b.DailyLossLimit);
                Decimal(b.LossBaseline);
                Time(b.LossDay);
                w.Write(b.LossLocked);
                Count(b.Positions.Length);
                foreach (var p in b.Positions)
                {
                    Varint(p.Key);
                    Shared(p.Symbol);
                    Decimal(p.Quantity);
                    Decimal(p.EntryPrice);
                    w.Write(p.Leverage);
                    Decimal(p.Margin);
                    Decimal(p.LiquidationPrice);
                    w.Write(p.LevelRank);
                }

                Count(b.Leverage.Length);
                foreach (var l in b.Leverage)
                {
                    Shared(l.Symbol);
                    w.Write(l.Leverage);
                }
            }

            Numbers(a.RecentDoneOrders);

            Count(a.ClientOrderIds.Length);
            foreach (var c in a.ClientOrderIds)
            {
                w.Write(c.ClientId);
                w.Write(c.Mapped);
                if (!c.Mapped) continue;
                Varint(c.Order);
                Optional(c.BodyHash);
            }

            Count(a.Lists.Length);
            foreach (var l in a.Lists)
            {
                Shared(l.Id.Value);
                Enum((int)l.Type);
                Numbers(l.Orders);
                Optional(l.ClientOrderId);
                Optional(l.BodyHash);
            }

            Count(a.Idempotency.Length);
            foreach (var i in a.Idempotency)
            {
                w.Write(i.Key);
                w.Write(i.Response is not null);
                if (i.Response is not { } r) continue;
                w.Write(r.BodyHash);
                w.Write(r.Status);
                w.Write(r.Body);
            }

            Count(a.Fills.Count);
            foreach (var f in a.Fills)
            {
                Varint(f.Number);
                w.Write(f.Order.HasValue);
                if (f.Order is { } order) Varint(order);
                Shared(f.Bucket.Value);
                Shared(f.Symbol);
                Enum((int)f.Side);
                Decimal(f.Quantity);
                Decimal(f.Price);
                Decimal(f.Fee);
                Decimal(f.RealizedPnl);
                Enum((int)f.Liquidity);
                Time(f.At);
            }

            Count(a.Events.Length);
            foreach (var e in a.Events)
            {
                Varint(e.Sequence);
                Event(e.Event);
            }

            w.Write(a.KillSwitch);
            OptionalTime(a.CancelAllAfter);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Order(in OrderSnapshot o)
        {
            var s = o.Spec;
            var flags = 0;
            if (!o.UpdatedAt.EqualsExact(o.CreatedAt)) flags |= StateUpdated;
            if (o.TrailingExtreme is not null) flags |= StateExtreme;
            if (o.Progress is { } p)
            {
                // Written as what differs from the order as accepted; an unchanged progress reads back as none.
                if (!Same(p.Quantity, s.Quantity)) flags |= StateQuantity;
                if (!Same(p.Price, s.Price)) flags |= StatePrice;
                if (!Same(p.TriggerPrice, s.TriggerPrice)) flags |= StateTrigger;
                if (!Same(p.CallbackRate, s.CallbackRate)) flags |= StateRate;
                if (!Same(p.CallbackAmount, s.CallbackAmount)) flags |= StateAmount;
                if (!IsZero(p.FilledQuantity) || !IsZero(p.AverageFillPrice)) flags |= StateFilled;
                if (p.TriggeredPrice is not null) flags |= StateTriggeredPrice;
                if (p.TriggeredAt is not null) flags |= StateTriggeredAt;
                if (p.Reason is not null) flags |= StateReason;
            }

            Spec(s);
            Varint32(flags);
            Shared(o.Account.Value);
            Enum((int)o.Status);
            Enum((int)o.Phase);
            Time(o.CreatedAt);
            if ((flags & StateUpdated) != 0) Time(o.UpdatedAt);
            if (o.TrailingExtreme is { } x) Decimal(x);
            if (o.Progress is not { } progress) return;
            if ((flags & StateQuantity) != 0) Decimal(progress.Quantity);
            if ((flags & StatePrice) != 0) Decimal(progress.Price);
            if ((flags & StateTrigger) != 0) Decimal(progress.TriggerPrice);
            if ((flags & StateRate) != 0) Decimal(progress.CallbackRate);
            if ((flags & StateAmount) != 0) Decimal(progress.CallbackAmount);
            if ((flags & StateFilled) != 0)
            {
                Decimal(progress.FilledQuantity);
                Decimal(progress.AverageFillPrice);
            }

            if (progress.TriggeredPrice is { } tp) Decimal(tp);
            if (progress.TriggeredAt is { } ta) Time(ta);
            if (progress.Reason is { } reason) Shared(reason);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Spec(OrderSpec s)
        {
            var flags = 0;
            if (s.Price is not null) flags |= SpecPrice;
            if (s.TriggerPrice is not null) flags |= SpecTrigger;
            if (s.CallbackRate is not null) flags |= SpecRate;
            if (s.CallbackAmount is not null) flags |= SpecAmount;
            if (s.ActivationPrice is not null) flags |= SpecActivation;
            if (s.ExpireAt is not null) flags |= SpecExpireAt;
            if (s.ClientOrderId is not null) flags |= SpecClientId;
            if (s.List is not null) flags |= SpecList;
            if (s.Parent is not null) flags |= SpecParent;
            if (s.OcoSibling is not null) flags |= SpecOco;
            if (s.ParentDistance is not null) flags |= SpecDistance;
            if (s.ReduceOnly) flags |= SpecReduceOnly;
            if (s.ClosePosition) flags |= SpecClosePosition;
            if (s.SizeFromParent) flags |= SpecSizeFromParent;
            if (s.Risk is not null) flags |= SpecRisk;

            Varint32(flags);
            Varint(s.Number);
            Shared(s.Bucket.Value);
            Shared(s.Symbol);
            Enum((int)s.Side);
            Enum((int)s.Type);
            Enum((int)s.TimeInForce);
            Enum((int)s.TriggerBy);
            Decimal(s.Quantity);
            if (s.Price is { } price) Decimal(price);
            if (s.TriggerPrice is { } trigger) Decimal(trigger);
            if (s.CallbackRate is { } rate) Decimal(rate);
            if (s.CallbackAmount is { } amount) Decimal(amount);
            if (s.ActivationPrice is { } activation) Decimal(activation);
            if (s.ExpireAt is { } expireAt) Time(expireAt);
            if (s.ClientOrderId is { } cid) w.Write(cid);
            if (s.List is { } list) Shared(list.Value);
            if (s.Parent is { } parent) Varint(parent);
            if (s.OcoSibling is { } oco) Varint(oco);
            if (s.ParentDistance is { } distance) Decimal(distance);
            if (s.Risk is { } risk) Risk(risk);
        }

        private void Risk(OrderRiskSpec risk)
        {
            byte flags = 0;
            if (risk.TriggerConfirmation is not null) flags |= RiskConfirmation;
            if (risk.Fallback is { } f)
            {
                flags |= RiskFallback;
                if (f.After is not null) flags |= RiskFallbackAfter;
                if (f.WorstPrice is not null) flags |= RiskFallbackWorst;
            }

            w.Write(flags);
            if (risk.TriggerConfirmation is { } wait) Varint(wait.Ticks);
            if (risk.Fallback is not { } fallback) return;
            Enum((int)fallback.Action);
            if (fallback.After is { } after) Varint(after.Ticks);
            if (fallback.WorstPrice is { } worst) Decimal(worst);
        }

        private void OptionalTime(DateTimeOffset? value)
        {
            w.Write(value is not null);
            if (value is { } t) Time(t);
        }

        public void JournalEvent(EngineEvent e)
        {
            if (e is TrailingExtremesMoved t)
            {
                w.Write(TrailingMovedTag);
                Time(t.At);
                Shared(t.Symbol);
                w.Write((byte)t.Source);
                w.Write((byte)t.Direction);
                Decimal(t.Price);
                return;
            }

            if (e is SymbolHalted h)
            {
                w.Write(SymbolHaltedTag);
                Time(h.At);
                Shared(h.Symbol);
                Shared(h.Reason);
                Time(h.Since);
                OptionalTime(h.Until);
                return;
            }

            if (e is SymbolResumed r)
            {
                w.Write(SymbolResumedTag);
                Time(r.At);
                Shared(r.Symbol);
                Shared(r.Reason);
                return;
            }

            Event((AccountEvent)e);
        }

        private void Event(AccountEvent e)
        {
            if (!EventTags.TryGetValue(e.GetType(), out var tag))
                throw new NotSupportedException($"The shard snapshot codec cannot encode {e.GetType().Name}: add it to {nameof(ShardSnapshotCodec)}.");
            w.Write(tag);
            Time(e.At);
            Shared(e.Account.Value);
            switch (e)
            {
                case AccountOpened x:
                    w.Write(x.Name);
                    w.Write(x.ApiKeyHash);
                    Shared(x.ManualBucket.Value);
                    break;
                case FundsDeposited x:
                    Decimal(x.Amount);
                    break;
                case FundsWithdrawn x:
                    Decimal(x.Amount);
                    break;
                case BucketCreated x:
                    Shared(x.Bucket.Value);
                    Shared(x.Name);
                    Enum((int)x.Kind);
                    Decimal(x.Allocation);
                    break;
                case FundsTransferred x:
                    Shared(x.Bucket.Value);
                    Enum((int)x.Direction);
                    Decimal(x.Amount);
                    break;
                case LeverageSet x:
                    Shared(x.Bucket.Value);
                    Shared(x.Symbol);
                    w.Write(x.Leverage);
                    break;
                case CommandRejected x:
                    Shared(x.Command);
                    Shared(x.Code);
                    w.Write(x.Detail);
                    break;
                case IdempotentResponseRecorded x:
                    w.Write(x.Key);
                    w.Write(x.BodyHash);
                    w.Write(x.Status);
                    w.Write(x.Body);
                    break;
                case OrderAccepted x:
                    Spec(x.Order);
                    Enum((int)x.Status);
                    Enum((int)x.Phase);
                    Optional(x.BodyHash);
                    break;
                case OrderListAccepted x:
                    Shared(x.List.Value);
                    Enum((int)x.ListType);
                    Numbers(x.Orders);
                    Optional(x.ClientOrderId);
                    Optional(x.BodyHash);
                    break;
                case OrderActivated x:
                    Varint(x.Order);
                    Decimal(x.Quantity);
                    Decimal(x.TriggerPrice);
                    Decimal(x.Price);
                    Enum((int)x.Phase);
                    break;
                case TrailingStopActivated x:
                    Varint(x.Order);
                    Decimal(x.Extreme);
                    break;
                case OrderTriggered x:
                    Varint(x.Order);
                    Decimal(x.Price);
                    break;
                case OrderFilled x:
                    Varint(x.Order);
                    Varint(x.Fill);
                    Decimal(x.Quantity);
                    Decimal(x.Price);
                    Decimal(x.Fee);
                    Decimal(x.RealizedPnl);
                    Enum((int)x.Liquidity);
                    break;
                case OrderAmended x:
                    Varint(x.Order);
                    Decimal(x.Quantity);
                    Decimal(x.Price);
                    Decimal(x.TriggerPrice);
                    Decimal(x.CallbackRate);
                    Decimal(x.CallbackAmount);
                    break;
                case OrderCancelled x:
                    Varint(x.Order);
                    Shared(x.Reason);
                    break;
                case OrderExpired x:
                    Varint(x.Order);
                    Shared(x.Reason);
                    break;
                case OrderRejected x:
                    Varint(x.Order);
                    Shared(x.Reason);
                    break;
                case PositionLiquidated x:
                    Shared(x.Bucket.Value);
                    Shared(x.Symbol);
                    Varint(x.Fill);
                    Decimal(x.Quantity);
                    Decimal(x.Price);
                    Decimal(x.RealizedPnl);
                    break;
                case PlanEvent x:
                    PlanEvent(x);
                    break;
                case KillSwitchEngaged x:
                    Shared(x.Bucket?.Value);
                    break;
                case KillSwitchReleased x:
                    Shared(x.Bucket?.Value);
                    break;
                case CancelAllAfterSet x:
                    OptionalTime(x.Deadline);
                    break;
                case CancelAllAfterTriggered x:
                    Time(x.Deadline);
                    break;
                case DailyLossLimitSet x:
                    Shared(x.Bucket.Value);
                    Decimal(x.Limit);
                    Decimal(x.Baseline);
                    Time(x.Day);
                    break;
                case DailyLossLimitReached x:
                    Shared(x.Bucket.Value);
                    Decimal(x.Loss);
                    Decimal(x.Limit);
                    break;
                case DailyLossLockReleased x:
                    Shared(x.Bucket.Value);
                    Decimal(x.Baseline);
                    break;
                case BucketDayStarted x:
                    Shared(x.Bucket.Value);
                    Time(x.Day);
                    Decimal(x.Baseline);
                    break;
                case TriggerConfirmationStarted x:
                    Varint(x.Order);
                    Decimal(x.Price);
                    Time(x.Until);
                    break;
                case TriggerConfirmationFailed x:
                    Varint(x.Order);
                    Decimal(x.Price);
                    break;
                case OrderConvertedToMarket x:
                    Varint(x.Order);
                    Shared(x.Reason);
                    break;
                case CopyEvent x:
                    CopyEvent(x);
                    break;
            }
        }

        private void Count(int count) => Varint32(count);

        private void Numbers(long[] numbers)
        {
            Count(numbers.Length);
            foreach (var n in numbers) Varint(n);
        }

        private void Enum(int value)
        {
            if ((uint)value > byte.MaxValue) throw new ArgumentOutOfRangeException(nameof(value), value, "enum value does not fit the snapshot format");
            w.Write((byte)value);
        }

        private void Optional(string? value)
        {
            w.Write(value is not null);
            if (value is not null) w.Write(value);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Shared(string? value)
        {
            if (value is null)
            {
                Varint32(0);
                return;
            }

            if (_perRecord)
            {
                SharedInRecord(value);
                return;
            }

            if (ReferenceEquals(value, _lastString))
            {
                Varint32(_lastIndex);
                return;
            }

            if (!_strings.TryGetValue(value, out var index))
            {
                index = _strings.Count + 1;
                _strings.Add(value, index);
                Varint32(index);
                w.Write(value);
            }
            else
            {
                Varint32(index);
            }

            _lastString = value;
            _lastIndex = index;
        }

        private void SharedInRecord(string value)
        {
            for (var i = 0; i < _recordStrings.Count; i++)
            {
                if (!string.Equals(_recordStrings[i], value, StringComparison.Ordinal)) continue;
                Varint32(i + 1);
                return;
            }

            _recordStrings.Add(value);
            Varint32(_recordStrings.Count);
            w.Write(value);
        }

        private void Decimal(decimal? value)
        {
            if (value is { } d) Decimal(d);
            else w.Write(DecimalNull);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Decimal(decimal value)
        {
            Span<int> bits = stackalloc int[4];
            decimal.GetBits(value, bits);
            var low = (ulong)(uint)bits[0] | ((ulong)(uint)bits[1] << 32);
            var high = (uint)bits[2];
            var head = (byte)((bits[3] >> 16) & DecimalScale);
            if (bits[3] < 0) head |= DecimalNegative;
            if (high != 0) head |= DecimalHigh;
            Span<byte> bytes = stackalloc byte[16];
            bytes[0] = head;
            var n = Encode(bytes, 1, low);
            if (high != 0) n = Encode(bytes, n, high);
            w.Write(bytes[..n]);
        }

        // BinaryWriter's 7-bit encoding, assembled in one span: one stream write per number instead of one per byte.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Varint(long value)
        {
            Span<byte> bytes = stackalloc byte[10];
            w.Write(bytes[..Encode(bytes, 0, (ulong)value)]);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Varint32(int value)
        {
            Span<byte> bytes = stackalloc byte[5];
            w.Write(bytes[..Encode(bytes, 0, (uint)value)]);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static int Encode(Span<byte> bytes, int at, ulong value)
        {
            while (value >= 0x80)
            {
                bytes[at++] = (byte)(value | 0x80);
                value >>= 7;
            }

            bytes[at++] = (byte)value;
            return at;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Time(DateTimeOffset value)
        {
            Span<byte> bytes = stackalloc byte[10];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value.Ticks);
            BinaryPrimitives.WriteInt16LittleEndian(bytes[8..], (short)(value.Offset.Ticks / TimeSpan.TicksPerMinute));
            w.Write(bytes);
        }
    }

    /// <param name="end">The stream's length when known (then counts are checked against it), else -1.</param>
    private sealed partial class Reader(BinaryReader r, Stream buffered, long end)
    {
        private readonly List<string> _strings = [];

        /// <summary>The snapshot's format version (journal records carry no version: they are read as the newest).</summary>
        private ushort _version = FormatVersion;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public ShardSnapshot Snapshot()
        {
            var magic = r.ReadUInt32();
            if (magic != Magic) throw new InvalidDataException($"Not a shard snapshot: magic 0x{magic:X8}, expected 0x{Magic:X8} (\"ESHS\").");
            var version = r.ReadUInt16();
            if (version is < OldestReadableVersion or > FormatVersion)
                throw new InvalidDataException($"Unsupported shard snapshot format version {version}; this build reads versions {OldestReadableVersion} to {FormatVersion}.");
            _version = version;
            var nextOrder = r.ReadInt64();
            var nextFill = r.ReadInt64();
            var nextPosition = r.ReadInt64();

            var accounts = new AccountSnapshot[Count()];
            for (var i = 0; i < accounts.Length; i++) accounts[i] = Account();

            var orders = new OrderSnapshot[Count()];
            var indexed = Count();
            if (indexed > orders.Length) throw Corrupt($"{indexed} indexed orders out of {orders.Length}");
            for (var i = 0; i < orders.Length; i++) orders[i] = Order();

            var children = new OrderChildren[Count()];
            for (var i = 0; i < children.Length; i++) children[i] = new OrderChildren(r.Read7BitEncodedInt64(), Numbers());

            var expiries = new ExpiryEntry[Count()];
            for (var i = 0; i < expiries.Length; i++) expiries[i] = new ExpiryEntry(r.Read7BitEncodedInt64(), Time());

            var plans = version >= 3 ? new PlanSnapshot[Count()] : [];
            for (var i = 0; i < plans.Length; i++) plans[i] = Plan();

            SymbolHaltEntry[] halts = [];
            ConfirmationEntry[] confirmations = [];
            if (_version >= 4)
            {
                halts = new SymbolHaltEntry[Count()];
                for (var i = 0; i < halts.Length; i++) halts[i] = new SymbolHaltEntry(SharedRequired(), SharedRequired(), Time(), OptionalTime());
                confirmations = new ConfirmationEntry[Count()];
                for (var i = 0; i < confirmations.Length; i++) confirmations[i] = new ConfirmationEntry(r.Read7BitEncodedInt64(), Decimal(), Time());
            }

            StrategySnapshot[] strategies = [];
            SubscriptionSnapshot[] subscriptions = [];
            if (_version >= 5)
            {
                strategies = new StrategySnapshot[Count()];
                for (var i = 0; i < strategies.Length; i++) strategies[i] = Strategy();
                subscriptions = new SubscriptionSnapshot[Count()];
                for (var i = 0; i < subscriptions.Length; i++) subscriptions[i] = Subscription();
            }

            var end = r.ReadUInt32();
            if (end != EndMarker) throw Corrupt($"end marker 0x{end:X8}, expected 0x{EndMarker:X8}");

            return new ShardSnapshot
            {
                NextOrderNumber = nextOrder,
                NextFillNumber = nextFill,
                NextPositionKey = nextPosition,
                Accounts = accounts,
                Orders = orders,
                IndexedOrders = indexed,
                Children = children,
                Expiries = expiries,
                Plans = plans,
                Halts = halts,
                Confirmations = confirmations,
                Strategies = strategies,
                Subscriptions = subscriptions,
            };
        }

        private AccountSnapshot Account()
        {
            var id = new AccountId(SharedRequired());
            var name = r.ReadString();
            var apiKeyHash = r.ReadString();
            var wallet = Decimal();
            var manual = new BucketId(SharedRequired());
            var bucketCount = r.Read7BitEncodedInt64();
            var listCount = r.Read7BitEncodedInt64();
            var eventSequence = r.Read7BitEncodedInt64();

            var buckets = new BucketSnapshot[Count()];
            for (var i = 0; i < buckets.Length; i++)
            {
                var bucketId = new BucketId(SharedRequired());
                var bucketName = SharedRequired();
                var kind = (BucketKind)r.ReadByte();
                var balance = Decimal();
                var realized = Decimal();
                // Format 2's "locked" flag was never set; read as the kill switch it would have been.
                var killSwitch = r.ReadBoolean();
                decimal? lossLimit = null;
                decimal lossBaseline = 0m;
                DateTimeOffset lossDay = default;
                var lossLocked = false;
                if (_version >= 4)
                {
                    lossLimit = NullableDecimal();
                    lossBaseline = Decimal();
                    lossDay = Time();
                    lossLocked = r.ReadBoolean();
                }

                var positions = new PositionSnapshot[Count()];
                for (var p = 0; p < positions.Length; p++)
                {
                    positions[p] = new PositionSnapshot(
                        r.Read7BitEncodedInt64(),
                        SharedRequired(),
                        Decimal(),
                        Decimal(),
                        r.ReadInt32(),
                        Decimal(),
                        NullableDecimal(),
                        r.ReadInt32());
                }

                var leverage = new LeverageSetting[Count()];
                for (var l = 0; l < leverage.Length; l++) leverage[l] = new LeverageSetting(SharedRequired(), r.ReadInt32());
                buckets[i] = new BucketSnapshot
                {
                    Id = bucketId,
                    Name = bucketName,
                    Kind = kind,
                    Balance = balance,
                    RealizedPnl = realized,
                    Positions = positions,
                    Leverage = leverage,
                    KillSwitch = killSwitch,
                    DailyLossLimit = lossLimit,
                    LossBaseline = lossBaseline,
                    LossDay = lossDay,
                    LossLocked = lossLocked,
                };
            }

            var recentDone = Numbers();

            var clientIds = new ClientIdEntry[Count()];
            for (var i = 0; i < clientIds.Length; i++)
            {
                var cid = r.ReadString();
                clientIds[i] = r.ReadBoolean()
                    ? new ClientIdEntry(cid, true, r.Read7BitEncodedInt64(), Optional())
                    : new ClientIdEntry(cid, false, 0, null);
            }

            var lists = new OrderList[Count()];
            for (var i = 0; i < lists.Length; i++)
                lists[i] = new OrderList(new ListId(SharedRequired()), (OrderListType)r.ReadByte(), Numbers(), Optional(), Optional());

            var idempotency = new IdempotencyEntry[Count()];
            for (var i = 0; i < idempotency.Length; i++)
            {
                var key = r.ReadString();
                idempotency[i] = r.ReadBoolean()
                    ? new IdempotencyEntry(key, new IdempotentResponse(r.ReadString(), r.ReadInt32(), r.ReadString()))
                    : new IdempotencyEntry(key, null);
            }

            var fills = new Fill[Count()];
            for (var i = 0; i < fills.Length; i++)
            {
                fills[i] = new Fill(
                    r.Read7BitEncodedInt64(),
                    r.ReadBoolean() ? r.Read7BitEncodedInt64() : null,
                    new BucketId(SharedRequired()),
                    SharedRequired(),
                    (OrderSide)r.ReadByte(),
                    Decimal(),
                    Decimal(),
                    Decimal(),
                    Decimal(),
                    (Liquidity)r.ReadByte(),
                    Time());
            }

            var events = new SequencedEvent[Count()];
            for (var i = 0; i < events.Length; i++) events[i] = new SequencedEvent(r.Read7BitEncodedInt64(), Event());
            var accountKill = _version >= 4 && r.ReadBoolean();
            var cancelAllAfter = _version >= 4 ? OptionalTime() : null;

            return new AccountSnapshot
            {
                Id = id,
                Name = name,
                ApiKeyHash = apiKeyHash,
                WalletBalance = wallet,
                ManualBucket = manual,
                BucketCount = bucketCount,
                ListCount = listCount,
                EventSequence = eventSequence,
                Buckets = buckets,
                RecentDoneOrders = recentDone,
                ClientOrderIds = clientIds,
                Lists = lists,
                Idempotency = idempotency,
                Fills = fills,
                Events = events,
                KillSwitch = accountKill,
                CancelAllAfter = cancelAllAfter,
            };
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private OrderSnapshot Order()
        {
            var spec = Spec();
            var flags = r.Read7BitEncodedInt();
            var account = new AccountId(SharedRequired());
            var status = (OrderStatus)r.ReadByte();
            var phase = (OrderPhase)r.ReadByte();
            var created = Time();
            var updated = (flags & StateUpdated) != 0 ? Time() : created;
            var extreme = (flags & StateExtreme) != 0 ? Decimal() : (decimal?)null;
            OrderProgress? progress = null;
            if ((flags & StateProgress) != 0)
            {
                var quantity = (flags & StateQuantity) != 0 ? Decimal() : spec.Quantity;
                var price = (flags & StatePrice) != 0 ? NullableDecimal() : spec.Price;
                var trigger = (flags & StateTrigger) != 0 ? NullableDecimal() : spec.TriggerPrice;
                var rate = (flags & StateRate) != 0 ? NullableDecimal() : spec.CallbackRate;
                var amount = (flags & StateAmount) != 0 ? NullableDecimal() : spec.CallbackAmount;
                decimal filled = 0m, average = 0m;
                if ((flags & StateFilled) != 0)
                {
                    filled = Decimal();
                    average = Decimal();
                }

                var triggeredPrice = (flags & StateTriggeredPrice) != 0 ? Decimal() : (decimal?)null;
                var triggeredAt = (flags & StateTriggeredAt) != 0 ? Time() : (DateTimeOffset?)null;
                var reason = (flags & StateReason) != 0 ? SharedRequired() : null;
                progress = new OrderProgress(quantity, price, trigger, rate, amount, filled, average, triggeredPrice, triggeredAt, reason);
            }

            return new OrderSnapshot(account, spec, status, phase, created, updated, extreme, progress);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private OrderSpec Spec()
        {
            var flags = r.Read7BitEncodedInt();
            return new OrderSpec
            {
                Number = r.Read7BitEncodedInt64(),
                Bucket = new BucketId(SharedRequired()),
                Symbol = SharedRequired(),
                Side = (OrderSide)r.ReadByte(),
                Type = (OrderType)r.ReadByte(),
                TimeInForce = (TimeInForce)r.ReadByte(),
                TriggerBy = (TriggerSource)r.ReadByte(),
                Quantity = Decimal(),
                Price = (flags & SpecPrice) != 0 ? Decimal() : null,
                TriggerPrice = (flags & SpecTrigger) != 0 ? Decimal() : null,
                CallbackRate = (flags & SpecRate) != 0 ? Decimal() : null,
                CallbackAmount = (flags & SpecAmount) != 0 ? Decimal() : null,
                ActivationPrice = (flags & SpecActivation) != 0 ? Decimal() : null,
                ExpireAt = (flags & SpecExpireAt) != 0 ? Time() : null,
                ClientOrderId = (flags & SpecClientId) != 0 ? r.ReadString() : null,
                List = (flags & SpecList) != 0 ? new ListId(SharedRequired()) : null,
                Parent = (flags & SpecParent) != 0 ? r.Read7BitEncodedInt64() : null,
                OcoSibling = (flags & SpecOco) != 0 ? r.Read7BitEncodedInt64() : null,
                ParentDistance = (flags & SpecDistance) != 0 ? Decimal() : null,
                ReduceOnly = (flags & SpecReduceOnly) != 0,
                ClosePosition = (flags & SpecClosePosition) != 0,
                SizeFromParent = (flags & SpecSizeFromParent) != 0,
                Risk = (flags & SpecRisk) != 0 ? Risk() : null,
            };
        }

        private OrderRiskSpec Risk()
        {
            var flags = r.ReadByte();
            TimeSpan? confirmation = (flags & RiskConfirmation) != 0 ? TimeSpan.FromTicks(r.Read7BitEncodedInt64()) : null;
            OrderFallback? fallback = null;
            if ((flags & RiskFallback) != 0)
            {
                var action = (FallbackAction)r.ReadByte();
                TimeSpan? after = (flags & RiskFallbackAfter) != 0 ? TimeSpan.FromTicks(r.Read7BitEncodedInt64()) : null;
                decimal? worst = (flags & RiskFallbackWorst) != 0 ? Decimal() : null;
                fallback = new OrderFallback(after, worst, action);
            }

            return new OrderRiskSpec(confirmation, fallback);
        }

        private DateTimeOffset? OptionalTime() => r.ReadBoolean() ? Time() : null;

        public EngineEvent JournalEvent()
        {
            var tag = r.ReadByte();
            if (tag == SymbolHaltedTag)
            {
                var haltedAt = Time();
                return new SymbolHalted(SharedRequired(), SharedRequired(), Time(), OptionalTime()) { At = haltedAt };
            }

            if (tag == SymbolResumedTag)
            {
                var resumedAt = Time();
                return new SymbolResumed(SharedRequired(), SharedRequired()) { At = resumedAt };
            }

            if (tag != TrailingMovedTag) return Event(tag);
            var at = Time();
            return new TrailingExtremesMoved(SharedRequired(), (TriggerSource)r.ReadByte(), (TriggerDirection)r.ReadByte(), Decimal()) { At = at };
        }

        private AccountEvent Event() => Event(r.ReadByte());

        private AccountEvent Event(byte tag)
        {
            var at = Time();
            var account = new AccountId(SharedRequired());
            return tag switch
            {
                1 => new AccountOpened(r.ReadString(), r.ReadString(), new BucketId(SharedRequired())) { At = at, Account = account },
                2 => new FundsDeposited(Decimal()) { At = at, Account = account },
                3 => new FundsWithdrawn(Decimal()) { At = at, Account = account },
                4 => new BucketCreated(new BucketId(SharedRequired()), SharedRequired(), (BucketKind)r.ReadByte(), Decimal()) { At = at, Account = account },
                5 => new FundsTransferred(new BucketId(SharedRequired()), (TransferDirection)r.ReadByte(), Decimal()) { At = at, Account = account },
                6 => new LeverageSet(new BucketId(SharedRequired()), SharedRequired(), r.ReadInt32()) { At = at, Account = account },
                7 => new CommandRejected(SharedRequired(), SharedRequired(), r.ReadString()) { At = at, Account = account },
                8 => new IdempotentResponseRecorded(r.ReadString(), r.ReadString(), r.ReadInt32(), r.ReadString()) { At = at, Account = account },
                9 => new OrderAccepted(Spec(), (OrderStatus)r.ReadByte(), (OrderPhase)r.ReadByte(), Optional()) { At = at, Account = account },
                10 => new OrderListAccepted(new ListId(SharedRequired()), (OrderListType)r.ReadByte(), Numbers(), Optional(), Optional()) { At = at, Account = account },
                11 => new OrderActivated(r.Read7BitEncodedInt64(), Decimal(), NullableDecimal(), NullableDecimal(), (OrderPhase)r.ReadByte()) { At = at, Account = account },
                12 => new TrailingStopActivated(r.Read7BitEncodedInt64(), Decimal()) { At = at, Account = account },
                13 => new OrderTriggered(r.Read7BitEncodedInt64(), Decimal()) { At = at, Account = account },
                14 => new OrderFilled(r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), Decimal(), Decimal(), Decimal(), Decimal(), (Liquidity)r.ReadByte()) { At = at, Account = account },
                15 => new OrderAmended(r.Read7BitEncodedInt64(), Decimal(), NullableDecimal(), NullableDecimal(), NullableDecimal(), NullableDecimal()) { At = at, Account = account },
                16 => new OrderCancelled(r.Read7BitEncodedInt64(), SharedRequired()) { At = at, Account = account },
                17 => new OrderExpired(r.Read7BitEncodedInt64(), SharedRequired()) { At = at, Account = account },
                18 => new OrderRejected(r.Read7BitEncodedInt64(), SharedRequired()) { At = at, Account = account },
                19 => new PositionLiquidated(new BucketId(SharedRequired()), SharedRequired(), r.Read7BitEncodedInt64(), Decimal(), Decimal(), Decimal()) { At = at, Account = account },
                >= PlanCreatedTag and <= PlanCancelledTag => PlanEvent(tag, at, account),
                31 => new KillSwitchEngaged(Shared() is { } engaged ? new BucketId(engaged) : null) { At = at, Account = account },
                32 => new KillSwitchReleased(Shared() is { } released ? new BucketId(released) : null) { At = at, Account = account },
                33 => new CancelAllAfterSet(OptionalTime()) { At = at, Account = account },
                34 => new CancelAllAfterTriggered(Time()) { At = at, Account = account },
                35 => new DailyLossLimitSet(new BucketId(SharedRequired()), NullableDecimal(), Decimal(), Time()) { At = at, Account = account },
                36 => new DailyLossLimitReached(new BucketId(SharedRequired()), Decimal(), Decimal()) { At = at, Account = account },
                37 => new DailyLossLockReleased(new BucketId(SharedRequired()), Decimal()) { At = at, Account = account },
                38 => new BucketDayStarted(new BucketId(SharedRequired()), Time(), Decimal()) { At = at, Account = account },
                39 => new TriggerConfirmationStarted(r.Read7BitEncodedInt64(), Decimal(), Time()) { At = at, Account = account },
                40 => new TriggerConfirmationFailed(r.Read7BitEncodedInt64(), Decimal()) { At = at, Account = account },
                41 => new OrderConvertedToMarket(r.Read7BitEncodedInt64(), SharedRequired()) { At = at, Account = account },
                >= StrategyPublishedTag and <= CopySubscriptionEndedTag => CopyEvent(tag, at, account),
                _ => throw Corrupt($"unknown event tag {tag}"),
            };
        }

        /// <summary>A count, checked against what is left of the stream (every element takes a byte at least).</summary>
        private int Count()
        {
            var count = r.Read7BitEncodedInt();
            if (count < 0) throw Corrupt($"negative count {count}");
            if (end >= 0 && count > end - buffered.Position) throw new EndOfStreamException($"count {count} exceeds the bytes left");
            return count;
        }

        private long[] Numbers()
        {
            var numbers = new long[Count()];
            for (var i = 0; i < numbers.Length; i++) numbers[i] = r.Read7BitEncodedInt64();
            return numbers;
        }

        private string? Optional() => r.ReadBoolean() ? r.ReadString() : null;

        private string SharedRequired() => Shared() ?? throw Corrupt("a required string is null");

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private string? Shared()
        {
            var index = r.Read7BitEncodedInt();
            if (index == 0) return null;
            if (index > 0 && index <= _strings.Count) return _strings[index - 1];
            if (index != _strings.Count + 1) throw Corrupt($"string reference {index} with {_strings.Count} strings known");
            var value = r.ReadString();
            _strings.Add(value);
            return value;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private decimal? NullableDecimal()
        {
            var head = r.ReadByte();
            return head == DecimalNull ? null : Decimal(head);
        }

        private decimal Decimal() => Decimal(r.ReadByte());

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private decimal Decimal(byte head)
        {
            var scale = (byte)(head & DecimalScale);
            if ((head & DecimalNull) != 0 || scale > 28) throw Corrupt($"bad decimal head 0x{head:X2}");
            var low = (ulong)r.Read7BitEncodedInt64();
            var high = (head & DecimalHigh) != 0 ? r.Read7BitEncodedInt() : 0;
            return new decimal((int)(uint)low, (int)(uint)(low >> 32), high, (head & DecimalNegative) != 0, scale);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private DateTimeOffset Time()
        {
            var ticks = r.ReadInt64();
            var offsetMinutes = r.ReadInt16();
            return new DateTimeOffset(ticks, TimeSpan.FromMinutes(offsetMinutes));
        }

        private static InvalidDataException Corrupt(string detail) => new($"The shard snapshot is corrupt: {detail}.");
    }
}
