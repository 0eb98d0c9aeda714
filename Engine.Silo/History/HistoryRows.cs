using Microsoft.EntityFrameworkCore;

namespace Engine.Silo.History;

/// <summary>
/// An order as the history read model keeps it (<c>history_orders</c>): searchable columns, the journal record
/// of its acceptance (its full spec) and everything its later events changed. One row per order, kept current
/// by <see cref="HistoryProjector"/>.
/// </summary>
public sealed class OrderHistoryRow
{
    public string AccountId { get; set; } = "";
    /// <summary>The order's number within its account (the public id is <c>{accountId}-o{number}</c>).</summary>
    public long Number { get; set; }
    public string BucketId { get; set; } = "";
    public string Symbol { get; set; } = "";
    /// <summary><see cref="Engine.Grains.Orders.OrderStatus"/> as a number.</summary>
    public short Status { get; set; }
    /// <summary><see cref="Engine.Grains.Orders.OrderPhase"/> as a number.</summary>
    public short Phase { get; set; }
    /// <summary>The <c>orderAccepted</c> journal record, as journaled: the order's spec.</summary>
    public byte[] Accepted { get; set; } = [];
    public decimal Quantity { get; set; }
    public decimal? Price { get; set; }
    public decimal? TriggerPrice { get; set; }
    public decimal? CallbackRate { get; set; }
    public decimal? CallbackAmount { get; set; }
    public decimal FilledQuantity { get; set; }
    public decimal AverageFillPrice { get; set; }
    public DateTimeOffset? TriggeredAt { get; set; }
    public decimal? TriggeredPrice { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// A fill (<c>history_fills</c>), liquidations included (no order, liquidity 2). Signed by side, the fills of a
/// bucket and symbol in number order give its position over time (the <c>history_positions</c> view).
/// </summary>
public sealed class FillHistoryRow
{
    public string AccountId { get; set; } = "";
    /// <summary>The fill's number within its account (the public id is <c>{accountId}-f{number}</c>).</summary>
    public long Number { get; set; }
    public long? OrderNumber { get; set; }
    public string BucketId { get; set; } = "";
    public string Symbol { get; set; } = "";
    /// <summary><see cref="Engine.Grains.Orders.OrderSide"/>: 0 buy, 1 sell.</summary>
    public short Side { get; set; }
    public decimal Quantity { get; set; }
    public decimal Price { get; set; }
    /// <summary>A positive cost in USDT.</summary>
    public decimal Fee { get; set; }
    public decimal RealizedPnl { get; set; }
    /// <summary><see cref="Engine.Grains.Orders.Liquidity"/>: 0 maker, 1 taker, 2 liquidation.</summary>
    public short Liquidity { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>One event of a trade plan's history (<c>history_plan_events</c>), keyed by its journal position.</summary>
public sealed class PlanHistoryRow
{
    public int Shard { get; set; }
    public long Sequence { get; set; }
    public string AccountId { get; set; } = "";
    public string PlanId { get; set; } = "";
    /// <summary>The event's type, as in the events endpoint (<c>planArmed</c>, ...).</summary>
    public string Type { get; set; } = "";
    public DateTimeOffset At { get; set; }
    /// <summary>The whole event as JSON.</summary>
    public string Detail { get; set; } = "";
}

/// <summary>
/// A copy subscription's outcome for one signal (<c>history_copy_outcomes</c>): copied, scaled down or skipped
/// with the reason, and the follower's order.
/// </summary>
public sealed class CopyOutcomeRow
{
    public string AccountId { get; set; } = "";
    public string SubscriptionId { get; set; } = "";
    /// <summary>The signal's number within its strategy.</summary>
    public long Sequence { get; set; }
    /// <summary><see cref="Engine.Grains.CopyTrading.CopySignalKind"/> as a number.</summary>
    public short Kind { get; set; }
    public string Symbol { get; set; } = "";
    public decimal LeaderQuantity { get; set; }
    public decimal Quantity { get; set; }
    /// <summary><see cref="Engine.Grains.CopyTrading.CopyOutcome"/> as a number.</summary>
    public short Outcome { get; set; }
    public string? Reason { get; set; }
    public long? OrderNumber { get; set; }
    public long? LeaderOrder { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>How far the read model has consumed each shard's journal (<c>history_checkpoints</c>).</summary>
public sealed class HistoryCheckpoint
{
    public int Shard { get; set; }
    public long Sequence { get; set; }
}

/// <summary>The read model's part of the engine's EF model.</summary>
internal static class HistoryModel
{
    public static void Configure(ModelBuilder model)
    {
        model.Entity<OrderHistoryRow>(e =>
        {
            e.ToTable("history_orders");
            e.HasKey(x => new { x.AccountId, x.Number });
            e.Property(x => x.AccountId).HasColumnName("account_id");
            e.Property(x => x.Number).HasColumnName("number");
            e.Property(x => x.BucketId).HasColumnName("bucket_id");
            e.Property(x => x.Symbol).HasColumnName("symbol");
            e.Property(x => x.Status).HasColumnName("status");
            e.Property(x => x.Phase).HasColumnName("phase");
            e.Property(x => x.Accepted).HasColumnName("accepted");
            e.Property(x => x.Quantity).HasColumnName("quantity");
            e.Property(x => x.Price).HasColumnName("price");
            e.Property(x => x.TriggerPrice).HasColumnName("trigger_price");
            e.Property(x => x.CallbackRate).HasColumnName("callback_rate");
            e.Property(x => x.CallbackAmount).HasColumnName("callback_amount");
            e.Property(x => x.FilledQuantity).HasColumnName("filled_quantity");
            e.Property(x => x.AverageFillPrice).HasColumnName("average_fill_price");
            e.Property(x => x.TriggeredAt).HasColumnName("triggered_at");
            e.Property(x => x.TriggeredPrice).HasColumnName("triggered_price");
            e.Property(x => x.Reason).HasColumnName("reason");
            e.Property(x => x.CreatedAt).HasColumnName("created_at");
            e.Property(x => x.UpdatedAt).HasColumnName("updated_at");
        });

        model.Entity<FillHistoryRow>(e =>
        {
            e.ToTable("history_fills");
            e.HasKey(x => new { x.AccountId, x.Number });
            e.HasIndex(x => new { x.AccountId, x.Symbol, x.Number });
            e.Property(x => x.AccountId).HasColumnName("account_id");
            e.Property(x => x.Number).HasColumnName("number");
            e.Property(x => x.OrderNumber).HasColumnName("order_number");
            e.Property(x => x.BucketId).HasColumnName("bucket_id");
            e.Property(x => x.Symbol).HasColumnName("symbol");
            e.Property(x => x.Side).HasColumnName("side");
            e.Property(x => x.Quantity).HasColumnName("quantity");
            e.Property(x => x.Price).HasColumnName("price");
            e.Property(x => x.Fee).HasColumnName("fee");
            e.Property(x => x.RealizedPnl).HasColumnName("realized_pnl");
            e.Property(x => x.Liquidity).HasColumnName("liquidity");
            e.Property(x => x.At).HasColumnName("at");
        });

        model.Entity<PlanHistoryRow>(e =>
        {
            e.ToTable("history_plan_events");
            e.HasKey(x => new { x.Shard, x.Sequence });
            e.HasIndex(x => new { x.AccountId, x.PlanId });
            e.Property(x => x.Shard).HasColumnName("shard");
            e.Property(x => x.Sequence).HasColumnName("sequence");
            e.Property(x => x.AccountId).HasColumnName("account_id");
            e.Property(x => x.PlanId).HasColumnName("plan_id");
            e.Property(x => x.Type).HasColumnName("type");
            e.Property(x => x.At).HasColumnName("at");
            e.Property(x => x.Detail).HasColumnName("detail").HasColumnType("jsonb");
        });

        model.Entity<CopyOutcomeRow>(e =>
        {
            e.ToTable("history_copy_outcomes");
            e.HasKey(x => new { x.AccountId, x.SubscriptionId, x.Sequence });
            e.Property(x => x.AccountId).HasColumnName("account_id");
            e.Property(x => x.SubscriptionId).HasColumnName("subscription_id");
            e.Property(x => x.Sequence).HasColumnName("sequence");
            e.Property(x => x.Kind).HasColumnName("kind");
            e.Property(x => x.Symbol).HasColumnName("symbol");
            e.Property(x => x.LeaderQuantity).HasColumnName("leader_quantity");
            e.Property(x => x.Quantity).HasColumnName("quantity");
            e.Property(x => x.Outcome).HasColumnName("outcome");
            e.Property(x => x.Reason).HasColumnName("reason");
            e.Property(x => x.OrderNumber).HasColumnName("order_number");
            e.Property(x => x.LeaderOrder).HasColumnName("leader_order");
            e.Property(x => x.At).HasColumnName("at");
        });

        model.Entity<HistoryCheckpoint>(e =>
        {
            e.ToTable("history_checkpoints");
            e.HasKey(x => x.Shard);
            e.Property(x => x.Shard).HasColumnName("shard").ValueGeneratedNever();
            e.Property(x => x.Sequence).HasColumnName("sequence");
        });
    }
}
