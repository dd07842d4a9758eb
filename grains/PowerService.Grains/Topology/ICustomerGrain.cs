using PowerService.Runtime;

namespace PowerService.Grains.Topology;

/// <summary>A customer (key: customer number), as imported from the topology files.</summary>
public interface ICustomerGrain : IGrain
{
    /// <summary>The customer's imported profile, or null for an unknown customer.</summary>
    Task<CustomerProfile?> GetProfile();
}

/// <summary>Where a customer sits in the grid and how they are served.</summary>
public sealed record CustomerProfile(
    string Id,
    string Name,
    string? Phone,
    string MeterId,
    string TransformerAreaId,
    string FeederId,
    string GridId,
    string Region,
    CustomerImportance Importance,
    AreaClass AreaClass,
    GeoPoint Location);
