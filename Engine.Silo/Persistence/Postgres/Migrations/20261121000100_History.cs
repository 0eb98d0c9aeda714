using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Engine.Silo.Persistence.Postgres.Migrations;

/// <summary>
/// The history read model: orders, fills (and positions over time as a view of them), plan events, copy outcomes and the
/// projector's per-shard checkpoints. Written by hand; the model-matches-migrations test covers it.
/// </summary>
[DbContext(typeof(EngineDbContext))]
[Migration("20261121000100_History")]
public sealed class History : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "history_orders",
            columns: table => new
            {
                account_id = table.Column<string>(type: "text", nullable: false),
                number = table.Column<long>(type: "bigint", nullable: false),
                bucket_id = table.Column<string>(type: "text", nullable: false),
                symbol = table.Column<string>(type: "text", nullable: false),
                status = table.Column<short>(type: "smallint", nullable: false),
                phase = table.Column<short>(type: "smallint", nullable: false),
                accepted = table.Column<byte[]>(type: "bytea", nullable: false),
                quantity = table.Column<decimal>(type: "numeric", nullable: false),
                price = table.Column<decimal>(type: "numeric", nullable: true),
                trigger_price = table.Column<decimal>(type: "numeric", nullable: true),
                callback_rate = table.Column<decimal>(type: "numeric", nullable: true),
                callback_amount = table.Column<decimal>(type: "numeric", nullable: true),
                filled_quantity = table.Column<decimal>(type: "numeric", nullable: false),
                average_fill_price = table.Column<decimal>(type: "numeric", nullable: false),
                triggered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                triggered_price = table.Column<decimal>(type: "numeric", nullable: true),
                reason = table.Column<string>(type: "text", nullable: true),
                created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_history_orders", x => new { x.account_id, x.number }));

        migrationBuilder.CreateTable(
            name: "history_fills",
            columns: table => new
            {
                account_id = table.Column<string>(type: "text", nullable: false),
                number = table.Column<long>(type: "bigint", nullable: false),
                order_number = table.Column<long>(type: "bigint", nullable: true),
                bucket_id = table.Column<string>(type: "text", nullable: false),
                symbol = table.Column<string>(type: "text", nullable: false),
                side = table.Column<short>(type: "smallint", nullable: false),
                quantity = table.Column<decimal>(type: "numeric", nullable: false),
                price = table.Column<decimal>(type: "numeric", nullable: false),
                fee = table.Column<decimal>(type: "numeric", nullable: false),
                realized_pnl = table.Column<decimal>(type: "numeric", nullable: false),
                liquidity = table.Column<short>(type: "smallint", nullable: false),
                at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_history_fills", x => new { x.account_id, x.number }));

        migrationBuilder.CreateIndex(
            name: "IX_history_fills_account_id_symbol_number",
            table: "history_fills",
            columns: ["account_id", "symbol", "number"]);

        migrationBuilder.CreateTable(
            name: "history_plan_events",
            columns: table => new
            {
                shard = table.Column<int>(type: "integer", nullable: false),
                sequence = table.Column<long>(type: "bigint", nullable: false),
                account_id = table.Column<string>(type: "text", nullable: false),
                plan_id = table.Column<string>(type: "text", nullable: false),
                type = table.Column<string>(type: "text", nullable: false),
                at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                detail = table.Column<string>(type: "jsonb", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_history_plan_events", x => new { x.shard, x.sequence }));

        migrationBuilder.CreateIndex(
            name: "IX_history_plan_events_account_id_plan_id",
            table: "history_plan_events",
            columns: ["account_id", "plan_id"]);

        migrationBuilder.CreateTable(
            name: "history_copy_outcomes",
            columns: table => new
            {
                account_id = table.Column<string>(type: "text", nullable: false),
                subscription_id = table.Column<string>(type: "text", nullable: false),
                sequence = table.Column<long>(type: "bigint", nullable: false),
                kind = table.Column<short>(type: "smallint", nullable: false),
                symbol = table.Column<string>(type: "text", nullable: false),
                leader_quantity = table.Column<decimal>(type: "numeric", nullable: false),
                quantity = table.Column<decimal>(type: "numeric", nullable: false),
                outcome = table.Column<short>(type: "smallint", nullable: false),
                reason = table.Column<string>(type: "text", nullable: true),
                order_number = table.Column<long>(type: "bigint", nullable: true),
                leader_order = table.Column<long>(type: "bigint", nullable: true),
                at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_history_copy_outcomes", x => new { x.account_id, x.subscription_id, x.sequence }));

        migrationBuilder.CreateTable(
            name: "history_checkpoints",
            columns: table => new
            {
                shard = table.Column<int>(type: "integer", nullable: false),
                sequence = table.Column<long>(type: "bigint", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_history_checkpoints", x => x.shard));

        // Positions over time: each bucket's net quantity per symbol after every fill (buys add, sells take away),
        // with the realized PnL and fees so far. A view, so it never disagrees with the fills.
        migrationBuilder.Sql("""
            CREATE VIEW history_positions AS
            SELECT account_id, bucket_id, symbol, number AS fill_number, at,
                   SUM(CASE side WHEN 0 THEN quantity ELSE -quantity END)
                       OVER (PARTITION BY account_id, bucket_id, symbol ORDER BY number) AS quantity,
                   SUM(realized_pnl) OVER (PARTITION BY account_id, bucket_id, symbol ORDER BY number) AS realized_pnl,
                   SUM(fee) OVER (PARTITION BY account_id, bucket_id, symbol ORDER BY number) AS fees
            FROM history_fills
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("DROP VIEW history_positions");
        migrationBuilder.DropTable(name: "history_checkpoints");
        migrationBuilder.DropTable(name: "history_copy_outcomes");
        migrationBuilder.DropTable(name: "history_plan_events");
        migrationBuilder.DropTable(name: "history_fills");
        migrationBuilder.DropTable(name: "history_orders");
    }
}
