using Engine.Api;
using Engine.Api.Endpoints;
using Engine.Api.Http;
using Engine.Silo;
using Engine.Silo.Runtime;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.OpenApi;

var builder = WebApplication.CreateBuilder(args);
builder.Services.Configure<EngineOptions>(builder.Configuration.GetSection("Engine"));
builder.Services.AddSingleton(TimeProvider.System);
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
PlanEndpoints.Map(app);
RiskEndpoints.Map(app);
CopyEndpoints.Map(app);

app.Run();

/// <summary>Entry point type, public so integration tests can host the real pipeline.</summary>
public partial class Program;
