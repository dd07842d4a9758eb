using PowerService.Runtime;

namespace PowerService.Grains.Topology;

/// <summary>Loads the area, its meters and their customers on activation (three reads, ~50 customers an area) and
/// keeps the counts and the important customers, which outage inference needs on every call. The supply meter (台区总表)
/// measures the whole area, not a customer: it is named apart and left out of the counts.</summary>
[GrainType(TopologyGrainTypes.TransformerArea)]
internal sealed class TransformerAreaGrain(ICatalog catalog) : Grain, ITransformerAreaGrain
{
    private TransformerAreaProfile? _profile;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (await catalog.ReadAsync(TopologyKinds.TransformerArea, GetPrimaryKeyString()) is not { } entry)
        {
            return;
        }
        var area = TopologyJson.Deserialize<TransformerAreaEntry>(entry);
        var meters = (await catalog.ReadChildrenAsync(TopologyKinds.Meter, [area.Id])).Select(TopologyJson.Deserialize<MeterEntry>).ToList();
        var supply = meters.Find(m => m.Role == MeterRole.Supply);
        var customerMeters = meters.Where(m => m.Role != MeterRole.Supply).Select(m => m.Id).ToList();
        var customers = customerMeters.Count == 0
            ? []
            : await catalog.ReadChildrenAsync(TopologyKinds.Customer, customerMeters);
        var important = customers
            .Select(TopologyJson.Deserialize<CustomerEntry>)
            .Where(c => c.Importance != CustomerImportance.Ordinary)
            .OrderByDescending(c => c.Importance)
            .ThenBy(c => c.Id, StringComparer.Ordinal)
            .Select(c => new KeyCustomer(c.Id, c.Name, c.Phone, c.MeterId, c.Importance))
            .ToList();
        _profile = new TransformerAreaProfile(
            area.Id, area.Name, area.FeederId, area.GridId, area.Region, area.AreaClass, new GeoPoint(area.Latitude, area.Longitude),
            area.CapacityKva, customerMeters.Count, customers.Count, important, supply?.Id);
    }

    public Task<TransformerAreaProfile?> GetProfile() => Task.FromResult(_profile);
}
