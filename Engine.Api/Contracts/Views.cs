using System.Text.Json;
using System.Text.Json.Nodes;
using Engine.Api.Http;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;

namespace Engine.Api.Contracts;

/// <summary>Turns domain state into responses. Runs on the owning shard's loop, where the state is consistent.</summary>
public static class Views
{
    public static AccountResponse Account(ShardGrains grains, Account account)
    {
        var buckets = account.Buckets.Select(b => Bucket(grains, b)).ToArray();
        return new AccountResponse(account.Id.Value, account.Name, account.WalletBalance,
            account.WalletBalance + buckets.Sum(b => b.Equity), buckets, account.KillSwitch, account.CancelAllAfter);
    }

    public static BucketResponse Bucket(ShardGrains grains, Bucket bucket)
    {
        var positions = bucket.Positions.Values.OrderBy(p => p.Symbol, StringComparer.Ordinal).Select(p => Position(grains, p)).ToArray();
        var unrealized = positions.Sum(p => p.UnrealizedPnl);
        var used = bucket.UsedMargin;
        var lockReason = grains.LockReasonOf(bucket);
        return new BucketResponse(bucket.Id.Value, bucket.Name, bucket.Kind, bucket.Balance, used, bucket.Balance - used,
            bucket.Balance + unrealized, unrealized, bucket.RealizedPnl, lockReason is not null,
            new SortedDictionary<string, int>(bucket.Leverage, StringComparer.Ordinal), positions,
            lockReason, bucket.KillSwitch, bucket.DailyLossLimit, grains.DailyLoss(bucket));
    }

    public static PositionResponse Position(ShardGrains grains, Position p)
    {
        var mark = grains.QuoteOf(p.Symbol).Mark ?? grains.QuoteOf(p.Symbol).Index;
        return new PositionResponse(p.Bucket.Value, p.Symbol, p.Quantity > 0 ? PositionSide.Long : PositionSide.Short,
            Math.Abs(p.Quantity), p.EntryPrice, mark, p.Leverage, p.Margin,
            mark is { } m ? p.UnrealizedPnl(m) : 0m, p.LiquidationPrice);
    }

    /// <summary>An order; <paramref name="grains"/> is its live shard, or null for one read from history (finished: no live trigger state).</summary>
    public static OrderResponse Order(ShardGrains? grains, Order o) => new()
    {
        OrderId = o.Id.ToString(),
        AccountId = o.Account.Value,
        BucketId = o.Bucket.Value,
        ListId = o.Spec.List?.Value,
        Symbol = o.Symbol,
        Side = o.Side,
        Type = o.Type,
        Quantity = o.Spec.ClosePosition ? o.FilledQuantity : o.Quantity,
        Price = o.Price,
        TriggerPrice = o.TriggerPrice,
        TriggerBy = o.Spec.TriggerBy,
        CallbackRate = o.CallbackRate,
        CallbackAmount = o.CallbackAmount,
        ActivationPrice = o.Spec.ActivationPrice,
        TrailingExtreme = grains?.TrailingExtreme(o),
        TimeInForce = o.Spec.TimeInForce,
        ExpireAt = o.Spec.ExpireAt,
        ReduceOnly = o.Spec.ReduceOnly,
        ClosePosition = o.Spec.ClosePosition,
        ClientOrderId = o.Spec.ClientOrderId,
        ParentOrderId = o.Spec.Parent is { } parent ? new OrderId(o.Account, parent).ToString() : null,
        OcoSiblingId = o.Spec.OcoSibling is { } sibling ? new OrderId(o.Account, sibling).ToString() : null,
        Status = o.Status,
        FilledQuantity = o.FilledQuantity,
        AverageFillPrice = o.AverageFillPrice,
        TriggeredAt = o.TriggeredAt,
        TriggeredPrice = o.TriggeredPrice,
        Reason = o.Reason,
        CreatedAt = o.CreatedAt,
        UpdatedAt = o.UpdatedAt,
        TriggerConfirmation = o.Spec.TriggerConfirmation is { } wait ? IsoDuration.Format(wait) : null,
        ConfirmingUntil = grains?.ConfirmingUntil(o),
        Fallback = o.Spec.Fallback is { } f ? new FallbackResponse(f.After is { } after ? IsoDuration.Format(after) : null, f.WorstPrice, f.Action) : null,
    };

    public static OrderListResponse List(ShardGrains grains, Account account, OrderList list)
    {
        var orders = list.Orders.Select(n => grains.FindOrder(account.Id, n)).OfType<Order>().Select(o => Order(grains, o)).ToArray();
        var active = orders.Any(o => o.Status is OrderStatus.Untriggered or OrderStatus.Open);
        return new OrderListResponse(list.Id.Value, list.Type, active ? "active" : "done", orders);
    }

    public static FillResponse Fill(AccountId account, Fill f) => new(
        $"{account.Value}-f{f.Number}",
        f.Order is { } n ? new OrderId(account, n).ToString() : null,
        f.Bucket.Value, f.Symbol, f.Side, f.Quantity, f.Price, f.Fee, f.RealizedPnl, f.Liquidity, f.At);

    /// <summary>
    /// An event as the events endpoint shows it: its sequence, type and fields, with the shard's
    /// internal order and fill numbers turned into the public ids.
    /// </summary>
    public static JsonObject Event(SequencedEvent e)
    {
        var node = JsonSerializer.SerializeToNode<EngineEvent>(e.Event, ApiJson.Options)!.AsObject();
        var account = e.Event.Account;
        var view = new JsonObject
        {
            ["sequence"] = e.Sequence,
            ["type"] = node["type"]?.DeepClone(),
            ["timestamp"] = node["at"]?.DeepClone(),
            ["accountId"] = account.Value,
        };
        foreach (var (name, value) in node)
        {
            if (name is "type" or "at" or "account") continue;
            switch (name)
            {
                case "order" when value is JsonObject spec:
                    view["order"] = SpecView(account, spec);
                    break;
                case "order" when value is JsonValue number:
                    view["orderId"] = new OrderId(account, number.GetValue<long>()).ToString();
                    break;
                case "orders" when value is JsonArray numbers && numbers.All(n => n is JsonValue):
                    view["orderIds"] = new JsonArray(numbers.Select(n => (JsonNode?)new OrderId(account, n!.GetValue<long>()).ToString()).ToArray());
                    break;
                case "orders" when value is JsonArray members:
                    // A plan's orders with their roles: {order, role, side} becomes {orderId, role, side}.
                    view["orders"] = new JsonArray(members.Select(m =>
                    {
                        var member = m!.DeepClone().AsObject();
                        if (member["order"] is JsonValue number)
                        {
                            member.Remove("order");
                            member["orderId"] = new OrderId(account, number.GetValue<long>()).ToString();
                        }

                        return (JsonNode?)member;
                    }).ToArray());
                    break;
                case "fill" when value is JsonValue fill:
                    view["fillId"] = $"{account.Value}-f{fill.GetValue<long>()}";
                    break;
                case "bodyHash" or "apiKeyHash":
                    break;
                default:
                    view[name] = value?.DeepClone();
                    break;
            }
        }

        return view;
    }

    private static JsonObject SpecView(AccountId account, JsonObject spec)
    {
        var view = new JsonObject();
        foreach (var (name, value) in spec)
        {
            switch (name)
            {
                case "number":
                    view["orderId"] = new OrderId(account, value!.GetValue<long>()).ToString();
                    break;
                case "parent":
                    view["parentOrderId"] = new OrderId(account, value!.GetValue<long>()).ToString();
                    break;
                case "ocoSibling":
                    view["ocoSiblingId"] = new OrderId(account, value!.GetValue<long>()).ToString();
                    break;
                case "bucket":
                    view["bucketId"] = value?.DeepClone();
                    break;
                case "list":
                    view["listId"] = value?.DeepClone();
                    break;
                case "risk" when value is JsonObject risk:
                    // As the order request has them: triggerConfirmation and fallback.after as ISO 8601 durations.
                    if (risk["triggerConfirmation"] is JsonValue wait) view["triggerConfirmation"] = IsoDuration.Format(TimeSpan.Parse(wait.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
                    if (risk["fallback"] is JsonObject fallback)
                    {
                        var copy = fallback.DeepClone().AsObject();
                        if (copy["after"] is JsonValue after) copy["after"] = IsoDuration.Format(TimeSpan.Parse(after.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
                        view["fallback"] = copy;
                    }

                    break;
                default:
                    view[name] = value?.DeepClone();
                    break;
            }
        }

        return view;
    }
}
