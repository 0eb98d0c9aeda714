using Engine.Api;
using Engine.Api.Endpoints;
using Engine.Api.Http;
using Engine.Api.Telemetry;
using Engine.Silo;
using Engine.Silo.Runtime;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.OpenApi;

var builder = WebApplication.CreateBuilder(args);
builder.Services.Configure<EngineOptions>(builder.Configuration.GetSection("Engine"));
// The store's connection string is a standard connection string (ConnectionStrings:Engine), not an engine setting.
builder.Services.PostConfigure<EngineOptions>(o => o.ConnectionString ??= builder.Configuration.GetConnectionString("Engine"));
builder.Services.AddSingleton(TimeProvider.System);
// Hosted services start in order and stop in reverse: telemetry is up before the engine recovers and flushes after it stops.
builder.Services.AddHostedService<OtlpTelemetry>();
builder.Services.AddSingleton<EngineHostedService>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<EngineHostedService>());
builder.Services.AddSingleton(sp => sp.GetRequiredService<EngineHostedService>().Silo);
builder.Services.Configure<JsonOptions>(o => ApiJson.Configure(o.SerializerOptions));
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
{
    // Every /v1 endpoint takes the X-Api-Key header (an account's key or the operator's).
    document.Components ??= new OpenApiComponents();
    document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
    document.Components.SecuritySchemes[ApiKeys.Header] = new OpenApiSecurityScheme
    {
        Type = SecuritySchemeType.ApiKey,
        In = ParameterLocation.Header,
        Name = ApiKeys.Header,
        Description = "An account's key (its own account only) or the operator key.",
    };
    document.Security ??= [];
    document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeys.Header, document)] = [] });
    return Task.CompletedTask;
}).AddSchemaTransformer((schema, context, _) =>
{
    // Decimals travel as JSON strings ("64250.5"); the generator would describe them as numbers.
    var type = context.JsonTypeInfo.Type;
    if (type == typeof(decimal) || type == typeof(decimal?))
    {
        schema.Type = type == typeof(decimal?) ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
        schema.Format = "decimal";
        schema.Pattern = @"^-?[0-9]+(\.[0-9]+)?$";
    }

    return Task.CompletedTask;
}));

var app = builder.Build();
app.UseMiddleware<RequestSpanMiddleware>();
app.UseMiddleware<ErrorMiddleware>();
app.UseStatusCodePages(context => Problems.ForBareStatus(context.HttpContext));
app.MapOpenApi();

// Liveness: the process serves requests (also while it recovers). Readiness: recovery has finished, every
// shard can journal, and the store answers.
app.MapGet("/health/live", () => Results.Ok(new { status = "live" })).WithTags("Health").ExcludeFromDescription();
app.MapGet("/health/ready", async (EngineHostedService engine, CancellationToken ct) =>
{
    if (!engine.Started) return Results.Json(new { status = "starting" }, statusCode: 503);
    var silo = engine.Silo;
    if (!silo.Healthy) return Results.Json(new { status = "recovering" }, statusCode: 503);
    return await silo.StoreAnswersAsync(ct)
        ? Results.Ok(new { status = "ready" })
        : Results.Json(new { status = "storeUnavailable" }, statusCode: 503);
}).WithTags("Health").ExcludeFromDescription();

OperatorEndpoints.Map(app);
MarketEndpoints.Map(app);
AccountEndpoints.Map(app);
OrderEndpoints.Map(app);
PlanEndpoints.Map(app);
RiskEndpoints.Map(app);
CopyEndpoints.Map(app);

app.Run();

/// <summary>Entry point type, public so integration tests can host the real pipeline.</summary>
public partial class Program;
