using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using PowerService.Api.Security;

namespace PowerService.Api.Tests.Support;

/// <summary>The real silo program (API, grains, runtime) over a throwaway SQLite file, with one local user per role.
/// Every user's password is <see cref="Password"/>.</summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public const string Password = "correct horse battery staple";
    private static readonly string PasswordHashValue = PasswordHash.Create(Password);
    private readonly string _folder = Directory.CreateTempSubdirectory("powerservice-api-").FullName;
    private readonly Dictionary<string, string?> _settings = [];

    public ApiFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Storage:Provider", "sqlite");
        builder.UseSetting("Storage:ConnectionString", $"Data Source={Path.Combine(_folder, "api.db")}");
        string[][] users =
        [
            ["dispatcher-li", Roles.Dispatcher, "", ""],
            ["crew-c12", Roles.Crew, "C-12", ""],
            ["customer-wang", Roles.Customer, "", "CU-0001"],
            ["operator-zhao", Roles.Operator, "", ""],
        ];
        for (var i = 0; i < users.Length; i++)
        {
            builder.UseSetting($"Auth:Users:{i}:Name", users[i][0]);
            builder.UseSetting($"Auth:Users:{i}:Role", users[i][1]);
            builder.UseSetting($"Auth:Users:{i}:PasswordHash", PasswordHashValue);
            builder.UseSetting($"Auth:Users:{i}:CrewId", users[i][2].Length == 0 ? null : users[i][2]);
            builder.UseSetting($"Auth:Users:{i}:CustomerId", users[i][3].Length == 0 ? null : users[i][3]);
        }
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>A client carrying a bearer token of <paramref name="user"/>.</summary>
    public async Task<HttpClient> ClientForAsync(string user)
    {
        var client = CreateClient();
        var response = await client.PostAsJsonAsync("/api/auth/token", new { username = user, password = Password });
        response.EnsureSuccessStatusCode();
        var token = await response.Content.ReadFromJsonAsync<TokenResponse>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token!.AccessToken);
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a closing connection; the OS cleans the temp folder.
        }
    }

    private sealed record TokenResponse(string TokenType, string AccessToken, long ExpiresIn);
}
