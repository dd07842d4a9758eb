using PowerService.Runtime;

namespace PowerService.Grains.Topology;

/// <summary>Builds the customer's profile on activation from its catalog entry, its meter's and its area's: three
/// grouped reads, so a storm activating a million customers shares round trips.</summary>
[GrainType(TopologyGrainTypes.Customer)]
internal sealed class CustomerGrain(ICatalog catalog) : Grain, ICustomerGrain
{
    private CustomerProfile? _profile;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (await catalog.ReadAsync(TopologyKinds.Customer, GetPrimaryKeyString()) is not { } entry)
        {
            return;
        }
        var customer = TopologyJson.Deserialize<CustomerEntry>(entry);
        var meter = TopologyJson.Deserialize<MeterEntry>(await catalog.ReadAsync(TopologyKinds.Meter, customer.MeterId)
            ?? throw new InvalidOperationException($"Customer '{customer.Id}' names meter '{customer.MeterId}', which is not in the catalog."));
        var area = TopologyJson.Deserialize<TransformerAreaEntry>(await catalog.ReadAsync(TopologyKinds.TransformerArea, meter.TransformerAreaId)
            ?? throw new InvalidOperationException($"Meter '{meter.Id}' names transformer area '{meter.TransformerAreaId}', which is not in the catalog."));
        _profile = new CustomerProfile(
            customer.Id, customer.Name, customer.Phone, customer.MeterId, area.Id, area.FeederId, area.GridId, area.Region,
            customer.Importance, customer.AreaClass ?? area.AreaClass, new GeoPoint(customer.Latitude, customer.Longitude));
    }

    public Task<CustomerProfile?> GetProfile() => Task.FromResult(_profile);
}
