using Engine.Api;
using Engine.Api.Endpoints;
using Engine.Api.Http;
using Engine.Silo;
using Engine.Silo.Runtime;
using Microsoft.AspNetCore.Http.Json;

var builder = WebApplication.CreateBuilder(args);
builder.Services.Configure<EngineOptions>(builder.Configuration.GetSection("Engine"));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<EngineHostedService>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<EngineHostedService>());
builder.Services.AddSingleton(sp => sp.GetRequiredService<EngineHostedService>().Silo);
builder.Services.Configure<JsonOptions>(o => ApiJson.Configure(o.SerializerOptions));
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi();

var app = builder.Build();
app.UseMiddleware<ErrorMiddleware>();
app.UseStatusCodePages(context => Problems.ForBareStatus(context.HttpContext));
app.MapOpenApi();

app.MapGet("/health/live", () => Results.Ok(new { status = "live" })).WithTags("Health").ExcludeFromDescription();
app.MapGet("/health/ready", (EngineHostedService engine) =>
    engine.Started && engine.Silo.Healthy
        ? Results.Ok(new { status = "ready" })
        : Results.Json(new { status = "unavailable" }, statusCode: 503)).WithTags("Health").ExcludeFromDescription();

OperatorEndpoints.Map(app);
MarketEndpoints.Map(app);
AccountEndpoints.Map(app);
OrderEndpoints.Map(app);

app.Run();

/// <summary>Entry point type, public so integration tests can host the real pipeline.</summary>
public partial class Program;
