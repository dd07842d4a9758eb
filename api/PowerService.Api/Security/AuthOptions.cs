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

    /// <summary>Checks that every user is complete and bound as its role requires; a bad entry stops the silo at start.</summary>
    public void Validate()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var user in Users)
        {
            var problem = user switch
            {
                { Name: null or "" } => "a user has no Name",
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
    public string Name { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public string Role { get; set; } = "";
    public string? CrewId { get; set; }
    public string? CustomerId { get; set; }
}
