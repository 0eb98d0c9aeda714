using Engine.Api.Contracts;
using Engine.Api.Http;
using Engine.Silo.Runtime;

namespace Engine.Api.Endpoints;

public static class MarketEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Market data");

        v1.MapGet("/instruments", (HttpContext http, EngineSilo silo) =>
        {
            ApiKeys.RequireAny(http, silo);
            var list = silo.Instruments.All.Select(i => new InstrumentResponse(i.Symbol, i.TickSize, i.LotStep, i.MinQuantity, i.MinNotional,
                i.MaxLeverage, i.MaintenanceMarginRate, i.MakerFeeRate, i.TakerFeeRate)).ToArray();
            return Results.Json(list, ApiJson.Options);
        })
        .Produces<InstrumentResponse[]>()
        .WithSummary("The tradable instruments and their contract specifications.");

        v1.MapGet("/prices/{symbol}", (HttpContext http, EngineSilo silo, string symbol) =>
        {
            ApiKeys.RequireAny(http, silo);
            if (silo.Prices.Snapshot(symbol) is not { } p) return Problems.NotFound($"unknown symbol {symbol}");
            return Results.Json(new PriceResponse(p.Symbol, p.Last, p.Index, p.Mark, p.Degraded, p.Timestamp,
                p.Sources.Select(s => new SourcePriceResponse(s.Source, s.Price, s.Timestamp, s.Included)).ToArray()), ApiJson.Options);
        })
        .Produces<PriceResponse>()
        .WithSummary("Last, index (reference price index) and mark of a symbol, with each source.");
    }
}
