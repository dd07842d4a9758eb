using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PowerService.Api;

/// <summary>What <c>/openapi/v1.json</c> says beyond what the endpoints' metadata gives, so that a client generated from
/// it works (an integrator's generated client had no response types, no token, "required" fields the API never needs,
/// and every string typed as anything): the bearer scheme on every operation that needs a token, the problem answers
/// every operation may give, text and time fields typed as such with their enum names, and request bodies whose fields
/// are checked by the API (a 400 naming the field), not required by the schema.</summary>
internal static class ApiDocument
{
    private const string Bearer = "Bearer";
    private const string Problem = "Problem";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            // The generator names the request's Host as the server: anyone could send a Host of their own, and a cache or
            // a client generator keeping that copy would send signed-in calls there. Paths are relative to the document.
            document.Servers = [];
            document.Info.Title = "PowerService API";
            document.Info.Description = "The command center's API: work orders, crews, bookings, outages, planned outages, meter events, indicators. "
                + "Errors are application/problem+json with `code` (and `field` for a 400); see docs/api.md.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The accessToken of POST /api/auth/token (or /api/auth/refresh).",
            };
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
            document.Components.Schemas[Problem] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "For people; the wording may change." },
                    ["code"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String,
                        Description = "What a client branches on: invalid-field (400), not-found (404), or a 409's reason.",
                        Enum = [.. ProblemCodes().Select(code => (JsonNode)JsonValue.Create(code))],
                    },
                    ["field"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request field a 400 is about." },
                },
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            var path = "/" + (context.Description.RelativePath ?? "");
            if (!path.StartsWith("/api/", StringComparison.Ordinal))
            {
                return Task.CompletedTask;
            }
            operation.Responses ??= [];
            var anonymous = metadata.OfType<IAllowAnonymous>().Any();
            if (anonymous && path.StartsWith("/api/auth/", StringComparison.Ordinal))
            {
                AddProblem(operation, context, StatusCodes.Status401Unauthorized, "Wrong user name or password, or a refresh token not valid (any more).");
            }
            if (!anonymous)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] });
                AddProblem(operation, context, StatusCodes.Status401Unauthorized, "No token, or one no longer valid.");
                AddProblem(operation, context, StatusCodes.Status403Forbidden, "The caller's role may not do this.");
            }
            AddProblem(operation, context, StatusCodes.Status400BadRequest, "A field is missing or invalid (`field` names it); nothing was changed.");
            if (path.Contains('{', StringComparison.Ordinal))
            {
                AddProblem(operation, context, StatusCodes.Status404NotFound, "Unknown, or not the caller's to see.");
            }
            if (context.Description.HttpMethod is "POST" or "DELETE")
            {
                AddProblem(operation, context, StatusCodes.Status409Conflict, "The entity's state forbids it (`code` says why); nothing was changed.");
                AddProblem(operation, context, StatusCodes.Status413PayloadTooLarge, "The body is larger than the endpoint takes.");
            }
            AddProblem(operation, context, StatusCodes.Status429TooManyRequests, "Rate limited: retry after Retry-After seconds.");
            AddProblem(operation, context, StatusCodes.Status503ServiceUnavailable, "Busy or the store is away: retry after Retry-After seconds; nothing was changed.");
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var type = context.JsonTypeInfo.Type;
            var underlying = Nullable.GetUnderlyingType(type) ?? type;
            var nullable = IsNullable(context.JsonPropertyInfo);
            // Text and times are read by the API's own converters (plain text, times with their offset), which leave
            // the generator without a type.
            if (schema.Type is null && underlying == typeof(string))
            {
                schema.Type = JsonSchemaType.String | (nullable ? JsonSchemaType.Null : 0);
            }
            else if (underlying == typeof(DateTimeOffset))
            {
                schema.Type = JsonSchemaType.String | (nullable ? JsonSchemaType.Null : 0);
                schema.Format = "date-time";
            }
            // Numbers are written as numbers; that a request may send one as text ("3") is no reason to type every
            // count in an answer "number or string" (a generated client could not add them up).
            if (schema.Type is { } numeric && (numeric & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (numeric & JsonSchemaType.String) != 0)
            {
                schema.Type = numeric & ~JsonSchemaType.String;
                schema.Pattern = null;
            }
            // "null, or the enum" where the enum lists null itself matched both branches of a oneOf: any of them.
            if (schema.OneOf is { Count: > 0 } branches && branches.Any(b => b is OpenApiSchema { Type: JsonSchemaType.Null }))
            {
                schema.AnyOf = branches;
                schema.OneOf = null;
            }
            if (context.JsonPropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(NamesOfAttribute), inherit: false) is [NamesOfAttribute names])
            {
                var listed = schema.Items as OpenApiSchema ?? schema; // a list of names (a crew's skills) lists them on its items
                listed.Type ??= JsonSchemaType.String;
                listed.Enum = [.. names.Names.Select(name => (JsonNode)JsonValue.Create(name))];
                if (listed.Type is { } listedType && (listedType & JsonSchemaType.Null) != 0)
                {
                    listed.Enum.Add(JsonNullSentinel.JsonNull); // absent or null: the API takes its default
                }
            }
            // A request body's fields are checked by the API, one by one, with a 400 naming the field: none is required
            // by the schema (a generated client demanded note, location and targetId for an accept).
            if (IsRequestBody(type))
            {
                schema.Required?.Clear();
            }
            return Task.CompletedTask;
        });
    }

    /// <summary>Every <c>code</c> a problem answer carries: <see cref="ConflictCodes"/> and the 400's and 404's.</summary>
    private static IEnumerable<string> ProblemCodes() =>
        [Errors.DomainExceptionHandler.InvalidFieldCode, Errors.DomainExceptionHandler.NotFoundCode, .. typeof(PowerService.Grains.ConflictCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!)];

    private static readonly NullabilityInfoContext Nullability = new();

    /// <summary>Whether the property may hold null (<c>string?</c>, <c>DateTimeOffset?</c>): the answer then carries null
    /// where it has no value, and the schema says so.</summary>
    private static bool IsNullable(System.Text.Json.Serialization.Metadata.JsonPropertyInfo? property)
    {
        if (property is null)
        {
            return false;
        }
        if (Nullable.GetUnderlyingType(property.PropertyType) is not null)
        {
            return true;
        }
        lock (Nullability)
        {
            return property.AttributeProvider switch
            {
                PropertyInfo info => Nullability.Create(info).ReadState == NullabilityState.Nullable,
                FieldInfo info => Nullability.Create(info).ReadState == NullabilityState.Nullable,
                _ => false,
            };
        }
    }

    private static bool IsRequestBody(Type type) =>
        type.Namespace?.StartsWith("PowerService.Api", StringComparison.Ordinal) == true
        && (type.Name.EndsWith("Body", StringComparison.Ordinal) || type.Name.EndsWith("Request", StringComparison.Ordinal));

    private static void AddProblem(OpenApiOperation operation, OpenApiOperationTransformerContext context, int status, string description)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }
        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(Problem, context.Document) },
            },
        };
    }
}

/// <summary>A text field of a request that takes the names of an enum (read case-insensitively), or the names a static
/// <c>IEnumerable&lt;string&gt;</c> property of <paramref name="type"/> lists (a transition's hyphenated actions): the
/// OpenAPI document lists them.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class NamesOfAttribute(Type type, string? property = null) : Attribute
{
    public IEnumerable<string> Names => property is null
        ? Enum.GetNames(type)
        : (IEnumerable<string>)type.GetProperty(property, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!.GetValue(null)!;
}
