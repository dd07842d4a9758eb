using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PowerService.Api;
using PowerService.Api.Security;
using PowerService.Grains;
using PowerService.Grains.Hosting;
using PowerService.Runtime;
using PowerService.Runtime.Storage;
using PowerService.Storage.Sqlite;

namespace PowerService.LoadTests.Harness;

/// <summary>The API hosted in-process the way the silo host hosts it (AddWorkflow, AddPowerServiceApi, AddSilo,
/// UsePowerServiceApi) on Kestrel at a free loopback port, over a fresh SQLite file, with the given local users.
/// Every user's password is <see cref="Password"/>; the token endpoint's per-address limit is raised because every
/// simulated user comes from 127.0.0.1.</summary>
internal sealed class ApiHost : IAsyncDisposable
{
    public const string Password = "benchmark password";

    private readonly WebApplication _app;
    private readonly string _folder;

    private ApiHost(WebApplication app, string folder, Uri address)
    {
        _app = app;
        _folder = folder;
        Address = address;
        Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, UseCookies = false }) { BaseAddress = address };
    }

    public Uri Address { get; }

    /// <summary>One client for all simulated users (a token goes on each request), pooling its connections.</summary>
    public HttpClient Client { get; }

    public Silo Silo => _app.Services.GetRequiredService<Silo>();

    public static async Task<ApiHost> StartAsync(IEnumerable<BenchmarkUser> users)
    {
        var folder = Directory.CreateTempSubdirectory("powerservice-apibench-").FullName;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var hash = PasswordHash.Create(Password);
        var settings = new Dictionary<string, string?>
        {
            ["Workflow:Notices:Folder"] = Path.Combine(folder, "notices"),
            ["Api:PublicRateLimit"] = "100000",
            // Every simulated user signs in at once before anything is measured: they wait their turn, none is told 503.
            ["Auth:PasswordCheckQueue"] = "100000",
            // The signalr benchmark's 5,000 consoles sign in with 10 dispatcher accounts (a real command center has an
            // account per dispatcher, each within the default 20 connections).
            ["Api:HubConnectionsPerStaff"] = "10000",
            // api-load's 128 crews stand for a region's thousands: each sends some 16 requests a second (a PDA a few a
            // minute), so the per-crew limit would measure the limiter, not the API.
            ["Api:CrewRateLimit"] = "1000000",
        };
        var i = 0;
        foreach (var user in users)
        {
            settings[$"Auth:Users:{i}:Name"] = user.Name;
            settings[$"Auth:Users:{i}:Role"] = user.Role;
            settings[$"Auth:Users:{i}:PasswordHash"] = hash;
            settings[$"Auth:Users:{i}:CrewId"] = user.CrewId;
            settings[$"Auth:Users:{i}:CustomerId"] = user.CustomerId;
            i++;
        }
        builder.Configuration.AddInMemoryCollection(settings);
        IStorageProvider store = new SqliteStorageProvider(new SqliteStorageOptions { ConnectionString = $"Data Source={Path.Combine(folder, "api.db")}" });
        builder.Services.AddSingleton(_ => store);
        builder.Services.AddWorkflow(builder.Configuration.GetSection("Workflow"));
        builder.Services.AddPowerServiceApi(builder.Configuration);
        builder.Services.AddSilo(options =>
        {
            // The defaults are the values the host's appsettings.json ships with.
            options.AddGrainsFrom(GrainsAssembly.Value);
            options.AddGrainsFrom(typeof(ApiHost).Assembly);
        });
        var app = builder.Build();
        app.UsePowerServiceApi();
        await app.StartAsync();
        return new ApiHost(app, folder, new Uri(app.Urls.First()));
    }

    /// <summary>A bearer token for <paramref name="user"/>, asked for once as a client app would at sign-in.</summary>
    public async Task<string> TokenAsync(string user)
    {
        using var response = await Client.PostAsJsonAsync("/api/auth/token", new { username = user, password = Password });
        response.EnsureSuccessStatusCode();
        var token = await response.Content.ReadFromJsonAsync<TokenAnswer>();
        return token!.AccessToken;
    }

    /// <summary>Sends a request as the holder of <paramref name="token"/>; the status is the caller's to judge.</summary>
    public async Task<HttpStatusCode> SendAsync(HttpMethod method, string path, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // a handle may linger a moment; the OS cleans the temp folder
        }
    }

    private sealed record TokenAnswer(string TokenType, string AccessToken, long ExpiresIn);
}

/// <summary>A local user of the hosted API.</summary>
internal sealed record BenchmarkUser(string Name, string Role, string? CrewId = null, string? CustomerId = null);
