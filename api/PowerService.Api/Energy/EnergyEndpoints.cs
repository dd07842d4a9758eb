using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PowerService.Api.Security;
using PowerService.Grains;
using PowerService.Grains.Energy;
using PowerService.Runtime;

namespace PowerService.Api.Energy;

/// <summary>A transformer area's energy over HTTP: the day being summed, the latest measured line losses and the
/// meters whose voltage is out of the band (docs/line-loss.md). For the command center and operations staff.</summary>
public static class EnergyEndpoints
{
    public static IEndpointRouteBuilder MapEnergyEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/transformer-areas/{id}/energy", async (string id, IGrainFactory grains) =>
                Results.Ok(await grains.GetGrain<IAreaEnergyGrain>(PlainIds.Lookup("Transformer area", id)).Get()))
            .RequireAuthorization(Roles.Operator)
            .WithTags("Energy")
            .WithName("GetTransformerAreaEnergy").Produces<AreaEnergyView>();
        return routes;
    }
}
