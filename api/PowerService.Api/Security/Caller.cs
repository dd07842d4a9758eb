using System.Security.Claims;
using PowerService.Grains;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Api.Security;

/// <summary>The token holder of a request, as endpoints need it: role, the crew or customer it is bound to, and the
/// actor name written into journaled events (<c>role:name</c>).</summary>
internal sealed record Caller(string Name, string Role, string? CrewId, string? CustomerId)
{
    public string Actor => $"{Role}:{Name}";

    public bool IsDispatcher => Role == Roles.Dispatcher;

    public bool IsOperator => Role == Roles.Operator;

    public static Caller From(ClaimsPrincipal user) => new(
        user.Identity?.Name ?? "unknown",
        user.FindFirstValue(ClaimTypes.Role) ?? "",
        user.FindFirstValue(Roles.CrewIdClaim),
        user.FindFirstValue(Roles.CustomerIdClaim));

    /// <summary>The profile of the customer this caller is bound to; 404 when the token names no customer the catalog
    /// knows (an account whose customer was never imported).</summary>
    public async Task<CustomerProfile> OwnCustomerAsync(IGrainFactory grains) =>
        CustomerId is { } id && await grains.GetGrain<ICustomerGrain>(id).GetProfile() is { } customer
            ? customer
            : throw new EntityNotFoundException("Customer", CustomerId ?? "");
}
