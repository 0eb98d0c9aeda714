using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Engine.Silo.Persistence.Postgres.Migrations;

/// <summary>
/// The journal, snapshot and settings tables. Written by hand (the EF design-time package is not available):
/// it must create exactly what <see cref="EngineDbContext"/> describes; a test checks that no model change is
/// pending after migrating.
/// </summary>
[DbContext(typeof(EngineDbContext))]
[Migration("20261121000000_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "engine_meta",
            columns: table => new
            {
                key = table.Column<string>(type: "text", nullable: false),
                value = table.Column<string>(type: "text", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_engine_meta", x => x.key));

        migrationBuilder.CreateTable(
            name: "journal",
            columns: table => new
            {
                shard = table.Column<int>(type: "integer", nullable: false),
                first_sequence = table.Column<long>(type: "bigint", nullable: false),
                last_sequence = table.Column<long>(type: "bigint", nullable: false),
                records = table.Column<byte[]>(type: "bytea", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_journal", x => new { x.shard, x.first_sequence }));

        // A batch's records are stored as they are: compressing them (pglz) on every commit costs more CPU than
        // the disk it saves. Snapshot chunks likewise.
        migrationBuilder.Sql("ALTER TABLE journal ALTER COLUMN records SET STORAGE EXTERNAL");

        migrationBuilder.CreateTable(
            name: "snapshots",
            columns: table => new
            {
                shard = table.Column<int>(type: "integer", nullable: false),
                sequence = table.Column<long>(type: "bigint", nullable: false),
                length = table.Column<long>(type: "bigint", nullable: false),
                created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_snapshots", x => new { x.shard, x.sequence }));

        migrationBuilder.CreateTable(
            name: "snapshot_chunks",
            columns: table => new
            {
                shard = table.Column<int>(type: "integer", nullable: false),
                sequence = table.Column<long>(type: "bigint", nullable: false),
                chunk = table.Column<int>(type: "integer", nullable: false),
                data = table.Column<byte[]>(type: "bytea", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_snapshot_chunks", x => new { x.shard, x.sequence, x.chunk });
                table.ForeignKey(
                    name: "FK_snapshot_chunks_snapshots_shard_sequence",
                    columns: x => new { x.shard, x.sequence },
                    principalTable: "snapshots",
                    principalColumns: ["shard", "sequence"],
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.Sql("ALTER TABLE snapshot_chunks ALTER COLUMN data SET STORAGE EXTERNAL");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "snapshot_chunks");
        migrationBuilder.DropTable(name: "snapshots");
        migrationBuilder.DropTable(name: "journal");
        migrationBuilder.DropTable(name: "engine_meta");
    }
}
