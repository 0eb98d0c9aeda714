using Engine.Api.Http;
using Engine.Grains;
using Engine.Grains.Plans;

namespace Engine.Api.Contracts;

/// <summary>Plans as the API shows them. Runs on the owning shard's loop, where the state is consistent.</summary>
public static class PlanViews
{
    public static PlanResponse Plan(Plan p)
    {
        var s = p.Spec;
        var account = p.Account;
        return new PlanResponse
        {
            PlanId = p.Id.Value,
            AccountId = account.Value,
            Name = s.Name,
            Symbol = s.Symbol,
            BucketId = s.Bucket.Value,
            OwnBucket = s.OwnBucket,
            Event = s.IsRecurring ? new PlanEventResponse(null, s.Cron, s.TimeZone) : new PlanEventResponse(p.EventAt),
            ArmBefore = IsoDuration.Format(s.ArmBefore),
            DisarmAfter = IsoDuration.Format(s.DisarmAfter),
            FlattenAfter = s.FlattenAfter is { } f ? IsoDuration.Format(f) : null,
            Entry = new PlanEntryResponse(s.Entry, s.EntryDistance),
            Sizing = new PlanSizingResponse(s.RiskFraction, s.Quantity),
            StopLoss = new PlanDistanceResponse(s.StopLossDistance),
            TakeProfit = s.TakeProfitDistance is { } tp ? new PlanDistanceResponse(tp) : null,
            Misfire = s.Misfire,
            Status = p.Status,
            EventAt = p.EventAt,
            ArmAt = p.ArmAt,
            DisarmAt = p.DisarmAt,
            FlattenAt = p.FlattenAt,
            ReferencePrice = p.ReferencePrice,
            Quantity = p.Quantity,
            ListId = p.List?.Value,
            OrderIds = p.TrackedOrders.Select(o => new OrderId(account, o.Order).ToString()).ToArray(),
            NetQuantity = p.NetQuantity,
            RealizedPnl = p.RealizedPnl,
            Fees = p.Fees,
            CreatedAt = p.CreatedAt,
            UpdatedAt = p.UpdatedAt,
            History = p.History.Select(h => History(account, h)).ToArray(),
        };
    }

    private static PlanHistoryResponse History(AccountId account, PlanHistoryEntry h) => new()
    {
        Timestamp = h.At,
        Type = h.Kind,
        EventAt = h.EventAt,
        NextEventAt = h.NextEventAt,
        Price = h.Price,
        Quantity = h.Quantity,
        OrderId = h.Order is { } n ? new OrderId(account, n).ToString() : null,
        Role = h.Role,
        Side = h.Side,
        OrderIds = h.Orders?.Select(o => new OrderId(account, o).ToString()).ToArray(),
        Fee = h.Fee,
        RealizedPnl = h.RealizedPnl,
        Reason = h.Reason,
    };
}
