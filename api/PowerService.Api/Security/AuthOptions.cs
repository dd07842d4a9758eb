namespace PowerService.Api.Security;

/// <summary>Local users (configuration section <c>Auth</c>). None ship for production: an operator adds them to
/// configuration with hashes made by <see cref="PasswordHash.Create"/>.</summary>
public sealed class AuthOptions
{
    public IList<LocalUser> Users { get; } = [];

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Where the keys that protect tokens are kept; unset, the process user's profile. Silos serving one user
    /// base share it, and a container keeps it on a volume: new keys sign everyone out.</summary>
    public string? KeysFolder { get; set; }

    /// <summary>Failed sign-ins one user name may have within <see cref="FailedSignInWindow"/>; at this many, the name's
    /// sign-ins are answered 429 until the window ends, right password or not (<see cref="SignInThrottle"/>).</summary>
    public int FailedSignInsPerUser { get; set; } = 10;

    /// <summary>How long a name's failed sign-ins count, from its first failure; a paused name signs in again after it.</summary>
    public TimeSpan FailedSignInWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long an address a name signed in from stays known for it: from there, only that address's own failures
    /// pause the name's sign-ins, not everyone's (<see cref="SignInThrottle"/>).</summary>
    public TimeSpan KnownAddressFor { get; set; } = TimeSpan.FromDays(30);

    /// <summary>User names whose failures are remembered at once (about half a kilobyte each); past it, the name whose
    /// window began first is forgotten, so names made up by the thousand cannot grow memory.</summary>
    public int FailedSignInNames { get; set; } = 10_000;

    /// <summary>Password checks (PBKDF2, ~27 ms of a core each) the silo runs at once, so guessing from many addresses
    /// cannot take every core from dispatchers and crews.</summary>
    public int ConcurrentPasswordChecks { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Sign-ins that may wait for a password check; one more is answered 503 with Retry-After 1.</summary>
    public int PasswordCheckQueue { get; set; } = 32;

    /// <summary>Checks the sign-in limits, and that every user is complete and bound as its role requires; a bad entry
    /// stops the silo at start.</summary>
    public void Validate()
    {
        var limit = this switch
        {
            { FailedSignInsPerUser: < 1 } => $"FailedSignInsPerUser is {FailedSignInsPerUser}; it must be at least 1",
            _ when FailedSignInWindow <= TimeSpan.Zero => $"FailedSignInWindow is {FailedSignInWindow}; it must be positive",
            _ when KnownAddressFor < TimeSpan.Zero => $"KnownAddressFor is {KnownAddressFor}; it must be zero (no address is known) or more",
            { FailedSignInNames: < 1 } => $"FailedSignInNames is {FailedSignInNames}; it must be at least 1",
            { ConcurrentPasswordChecks: < 1 } => $"ConcurrentPasswordChecks is {ConcurrentPasswordChecks}; it must be at least 1",
            { PasswordCheckQueue: < 0 } => $"PasswordCheckQueue is {PasswordCheckQueue}; it must be 0 or more",
            _ => null,
        };
        if (limit is not null)
        {
            throw new InvalidOperationException($"Auth configuration: {limit}.");
        }
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var user in Users)
        {
            var problem = user switch
            {
                { Name: null or "" } => "a user has no Name",
                { Name.Length: > LocalUser.MaxNameLength } => $"a user's Name is longer than {LocalUser.MaxNameLength} characters",
                _ when !names.Add(user.Name) => $"user '{user.Name}' is configured twice",
                { PasswordHash: null or "" } => $"user '{user.Name}' has no PasswordHash",
                _ when user.Role is null || !Roles.All.Contains(user.Role) => $"user '{user.Name}' has role '{user.Role}'; roles are {string.Join(", ", Roles.All)}",
                { Role: Roles.Crew, CrewId: null or "" } => $"crew user '{user.Name}' has no CrewId",
                { Role: Roles.Customer, CustomerId: null or "" } => $"customer user '{user.Name}' has no CustomerId",
                _ => null,
            };
            if (problem is not null)
            {
                throw new InvalidOperationException($"Auth configuration: {problem}.");
            }
        }
    }
}

public sealed class LocalUser
{
    /// <summary>The longest name a user may have; a longer one at sign-in is a 400 (it is not kept to be counted).</summary>
    public const int MaxNameLength = 200;

    public string Name { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public string Role { get; set; } = "";
    public string? CrewId { get; set; }
    public string? CustomerId { get; set; }
}
