using PowerService.Runtime;

namespace PowerService.Grains.Topology;

[GrainType(TopologyGrainTypes.ServiceGrid)]
internal sealed class ServiceGridGrain(ICatalog catalog) : Grain, IServiceGridGrain
{
    private ServiceGridProfile? _profile;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (await catalog.ReadAsync(TopologyKinds.ServiceGrid, GetPrimaryKeyString()) is { } entry)
        {
            var grid = TopologyJson.Deserialize<ServiceGridEntry>(entry);
            _profile = new ServiceGridProfile(grid.Id, grid.Name, grid.Region, new GridManager(grid.ManagerName, grid.ManagerPhone));
        }
    }

    public Task<ServiceGridProfile?> GetProfile() => Task.FromResult(_profile);
}
