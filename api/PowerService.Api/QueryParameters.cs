using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using PowerService.Grains;

namespace PowerService.Api;

/// <summary>A query parameter an API endpoint does not take, or one given twice, is a 400 naming it: <c>?stat=Open</c>
/// listed every order and <c>?regoin=R1</c> answered with the whole system's indicators, silently, and
/// <c>?region=R1&amp;region=R2</c> was read as the region "R1,R2". The parameters an endpoint takes are its handler's
/// text and parsable parameters that are not in its route.</summary>
internal static class QueryParameters
{
    // What each endpoint takes, found once: the endpoints are fixed when the app is built, and this runs per request.
    private static readonly ConditionalWeakTable<RouteEndpoint, string[]> TakenByEndpoint = [];

    public static IApplicationBuilder UseKnownQueryParameters(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.QueryString.HasValue && context.Request.Path.StartsWithSegments("/api")
            && context.GetEndpoint() is RouteEndpoint endpoint)
        {
            Check(context.Request.Query, endpoint);
        }
        await next(context);
    });

    private static void Check(IQueryCollection query, RouteEndpoint endpoint)
    {
        var taken = TakenByEndpoint.GetValue(endpoint, Taken);
        foreach (var (name, values) in query)
        {
            if (!taken.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new InvalidFieldException(name, taken.Length == 0
                    ? $"This endpoint takes no query parameters; '{name}' is not one."
                    : $"'{name}' is not a query parameter of this endpoint; it takes {string.Join(", ", taken)}.");
            }
            if (values.Count > 1)
            {
                throw new InvalidFieldException(name, $"{name} is given {values.Count} times; give it once.");
            }
        }
    }

    private static string[] Taken(RouteEndpoint endpoint) =>
        [.. endpoint.Metadata.GetOrderedMetadata<IParameterBindingMetadata>()
            .Where(p => (p.HasTryParse || p.ParameterInfo.ParameterType == typeof(string)) && endpoint.RoutePattern.GetParameter(p.Name) is null)
            .Select(p => p.Name)];
}
