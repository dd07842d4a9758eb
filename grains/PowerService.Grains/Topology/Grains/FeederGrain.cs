using PowerService.Runtime;

namespace PowerService.Grains.Topology;

[GrainType(TopologyGrainTypes.Feeder)]
internal sealed class FeederGrain(ICatalog catalog) : Grain, IFeederGrain
{
    private FeederProfile? _profile;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (await catalog.ReadAsync(TopologyKinds.Feeder, GetPrimaryKeyString()) is not { } entry)
        {
            return;
        }
        var feeder = TopologyJson.Deserialize<FeederEntry>(entry);
        var areas = await catalog.ReadChildrenAsync(TopologyKinds.TransformerArea, [feeder.Id]);
        _profile = new FeederProfile(feeder.Id, feeder.Name, feeder.SubstationId, feeder.SubstationName, feeder.Region, [.. areas.Select(a => a.Key)]);
    }

    public Task<FeederProfile?> GetProfile() => Task.FromResult(_profile);
}
