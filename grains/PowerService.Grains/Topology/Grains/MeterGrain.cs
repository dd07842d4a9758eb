using PowerService.Runtime;

namespace PowerService.Grains.Topology;

[GrainType(TopologyGrainTypes.Meter)]
internal sealed class MeterGrain(ICatalog catalog) : Grain, IMeterGrain
{
    private MeterProfile? _profile;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (await catalog.ReadAsync(TopologyKinds.Meter, GetPrimaryKeyString()) is { } entry)
        {
            var meter = TopologyJson.Deserialize<MeterEntry>(entry);
            _profile = new MeterProfile(meter.Id, meter.TransformerAreaId, new GeoPoint(meter.Latitude, meter.Longitude), meter.Role ?? MeterRole.Customer);
        }
    }

    public Task<MeterProfile?> GetProfile() => Task.FromResult(_profile);
}
