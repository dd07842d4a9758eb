using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Security;
using PowerService.Grains.Indicators;
using PowerService.Runtime;

namespace PowerService.Api.Indicators;

/// <summary>Service-quality indicators (SAIDI, SAIFI, on-time rate, complaints…) of one region or of the whole system,
/// over a range of local months (docs/indicators.md). For the command center and operations staff.</summary>
public static class IndicatorEndpoints
{
    public static IEndpointRouteBuilder MapIndicatorEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/indicators", async (string? region, string? from, string? to, IGrainFactory grains) =>
            {
                var scope = RequestFields.OptionalRegion(region, asked: true) ?? IndicatorScopes.System;
                return Results.Ok(await grains.GetGrain<IRegionIndicatorsGrain>(scope).Get(
                    RequestFields.Optional(from, "from", 7), RequestFields.Optional(to, "to", 7)));
            })
            .RequireAuthorization(Roles.Operator)
            .WithTags("Indicators")
            .WithName("GetIndicators").Produces<ServiceIndicators>();
        return routes;
    }
}
