using Engine.Grains;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Silo.Serialization;
using Npgsql;

namespace Engine.Silo.History;

/// <summary>Between <c>history_orders</c> rows and domain <see cref="Order"/>s (the API renders those).</summary>
internal static class HistoryOrders
{
    public const string Columns =
        "account_id, number, bucket_id, symbol, status, phase, accepted, quantity, price, trigger_price, callback_rate, callback_amount, " +
        "filled_quantity, average_fill_price, triggered_at, triggered_price, reason, created_at, updated_at";

    public static OrderHistoryRow Read(NpgsqlDataReader r) => new()
    {
        AccountId = r.GetString(0),
        Number = r.GetInt64(1),
        BucketId = r.GetString(2),
        Symbol = r.GetString(3),
        Status = r.GetInt16(4),
        Phase = r.GetInt16(5),
        Accepted = (byte[])r.GetValue(6),
        Quantity = r.GetDecimal(7),
        Price = r.IsDBNull(8) ? null : r.GetDecimal(8),
        TriggerPrice = r.IsDBNull(9) ? null : r.GetDecimal(9),
        CallbackRate = r.IsDBNull(10) ? null : r.GetDecimal(10),
        CallbackAmount = r.IsDBNull(11) ? null : r.GetDecimal(11),
        FilledQuantity = r.GetDecimal(12),
        AverageFillPrice = r.GetDecimal(13),
        TriggeredAt = r.IsDBNull(14) ? null : r.GetFieldValue<DateTimeOffset>(14),
        TriggeredPrice = r.IsDBNull(15) ? null : r.GetDecimal(15),
        Reason = r.IsDBNull(16) ? null : r.GetString(16),
        CreatedAt = r.GetFieldValue<DateTimeOffset>(17),
        UpdatedAt = r.GetFieldValue<DateTimeOffset>(18),
    };

    /// <summary>The order as it was when the row was written: its spec from the acceptance record, then its progress.</summary>
    public static Order ToOrder(OrderHistoryRow row)
    {
        var accepted = (OrderAccepted)JournalEventCodec.Deserialize(row.Accepted);
        var order = new Order(new AccountId(row.AccountId), accepted.Order, (OrderStatus)row.Status, (OrderPhase)row.Phase, row.CreatedAt)
        {
            Quantity = row.Quantity,
            Price = row.Price,
            TriggerPrice = row.TriggerPrice,
            CallbackRate = row.CallbackRate,
            CallbackAmount = row.CallbackAmount,
            UpdatedAt = row.UpdatedAt,
        };
        if (row.FilledQuantity != 0m || row.AverageFillPrice != 0m)
        {
            order.FilledQuantity = row.FilledQuantity;
            order.AverageFillPrice = row.AverageFillPrice;
        }

        if (row.TriggeredAt is not null) order.TriggeredAt = row.TriggeredAt;
        if (row.TriggeredPrice is not null) order.TriggeredPrice = row.TriggeredPrice;
        if (row.Reason is not null) order.Reason = row.Reason;
        return order;
    }

    public static async Task UpsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyCollection<(Order Order, byte[] Accepted)> orders, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"INSERT INTO history_orders ({Columns}) " +
            "SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::smallint[], $6::smallint[], $7::bytea[], $8::numeric[], " +
            "$9::numeric[], $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[], $15::timestamptz[], $16::numeric[], " +
            "$17::text[], $18::timestamptz[], $19::timestamptz[]) " +
            "ON CONFLICT (account_id, number) DO UPDATE SET status = excluded.status, phase = excluded.phase, quantity = excluded.quantity, " +
            "price = excluded.price, trigger_price = excluded.trigger_price, callback_rate = excluded.callback_rate, " +
            "callback_amount = excluded.callback_amount, filled_quantity = excluded.filled_quantity, " +
            "average_fill_price = excluded.average_fill_price, triggered_at = excluded.triggered_at, " +
            "triggered_price = excluded.triggered_price, reason = excluded.reason, updated_at = excluded.updated_at",
            connection, transaction);
        var list = orders.Select(o => o.Order).ToArray();
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<string[]> { TypedValue = list.Select(o => o.Account.Value).ToArray() });
        p.Add(new NpgsqlParameter<long[]> { TypedValue = list.Select(o => o.Number).ToArray() });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = list.Select(o => o.Bucket.Value).ToArray() });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = list.Select(o => o.Symbol).ToArray() });
        p.Add(new NpgsqlParameter<short[]> { TypedValue = list.Select(o => (short)o.Status).ToArray() });
        p.Add(new NpgsqlParameter<short[]> { TypedValue = list.Select(o => (short)o.Phase).ToArray() });
        p.Add(new NpgsqlParameter<byte[][]> { TypedValue = orders.Select(o => o.Accepted).ToArray() });
        p.Add(new NpgsqlParameter<decimal[]> { TypedValue = list.Select(o => o.Quantity).ToArray() });
        p.Add(new NpgsqlParameter<decimal?[]> { TypedValue = list.Select(o => o.Price).ToArray() });
        p.Add(new NpgsqlParameter<decimal?[]> { TypedValue = list.Select(o => o.TriggerPrice).ToArray() });
        p.Add(new NpgsqlParameter<decimal?[]> { TypedValue = list.Select(o => o.CallbackRate).ToArray() });
        p.Add(new NpgsqlParameter<decimal?[]> { TypedValue = list.Select(o => o.CallbackAmount).ToArray() });
        p.Add(new NpgsqlParameter<decimal[]> { TypedValue = list.Select(o => o.FilledQuantity).ToArray() });
        p.Add(new NpgsqlParameter<decimal[]> { TypedValue = list.Select(o => o.AverageFillPrice).ToArray() });
        p.Add(new NpgsqlParameter<DateTimeOffset?[]> { TypedValue = list.Select(o => o.TriggeredAt).ToArray() });
        p.Add(new NpgsqlParameter<decimal?[]> { TypedValue = list.Select(o => o.TriggeredPrice).ToArray() });
        p.Add(new NpgsqlParameter<string?[]> { TypedValue = list.Select(o => o.Reason).ToArray() });
        p.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = list.Select(o => o.CreatedAt).ToArray() });
        p.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = list.Select(o => o.UpdatedAt).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }
}
