using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Mvc.Testing;
using PowerService.Api.Security;
using PowerService.Runtime;

namespace PowerService.Api.Tests.Support;

/// <summary>The real silo program (API, grains, runtime) over a throwaway SQLite file, with one local user per role.
/// Every user's password is <see cref="Password"/>.</summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public const string Password = "correct horse battery staple";
    private static readonly string PasswordHashValue = PasswordHash.Create(Password);
    private readonly string _folder = Directory.CreateTempSubdirectory("powerservice-api-").FullName;
    private readonly Dictionary<string, string?> _settings = [];

    private TimeProvider? _clock;
    private int? _socketSendBuffer;

    private string StoreConnectionString => $"Data Source={Path.Combine(_folder, "api.db")}";

    /// <summary>A copy of this silo's store as it is now (its files, the write-ahead log with them), for a silo started
    /// on it as after a restart: two silos on one store at once are refused.</summary>
    public string CopyOfStore()
    {
        var copy = Directory.CreateTempSubdirectory("powerservice-api-copy-").FullName;
        foreach (var file in Directory.GetFiles(_folder, "api.db*").Where(f => !f.EndsWith(".owner", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }
        return $"Data Source={Path.Combine(copy, "api.db")}";
    }

    public ApiFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Runs the silo's grains and the sign-in throttle on <paramref name="clock"/> (bearer tokens keep the real clock).</summary>
    public ApiFactory WithSiloClock(TimeProvider clock)
    {
        _clock = clock;
        return this;
    }

    /// <summary>Gives Kestrel's sockets a fixed send buffer of <paramref name="bytes"/> (Linux sizes it by itself, to
    /// megabytes on loopback), so that a client that stops reading holds the server's sends soon.</summary>
    public ApiFactory WithSocketSendBuffer(int bytes)
    {
        _socketSendBuffer = bytes;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Storage:Provider", "sqlite");
        builder.UseSetting("Storage:ConnectionString", StoreConnectionString);
        builder.UseSetting("Workflow:Notices:Folder", Path.Combine(_folder, "notices"));
        string[][] users =
        [
            ["dispatcher-li", Roles.Dispatcher, "", ""],
            ["crew-c12", Roles.Crew, "C-12", ""],
            ["customer-wang", Roles.Customer, "", "CU-0001"],
            ["customer-li", Roles.Customer, "", "CU-0002"],
            ["operator-zhao", Roles.Operator, "", ""],
            ["headend-1", Roles.Ami, "", ""],
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
        if (_socketSendBuffer is { } sendBuffer)
        {
            // Accepted sockets take the listening socket's buffer sizes.
            builder.ConfigureServices(services => services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(options =>
                options.CreateBoundListenSocket = endpoint =>
                {
                    var socket = Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                    socket.SendBufferSize = sendBuffer;
                    return socket;
                }));
        }
        if (_clock is { } clock)
        {
            builder.ConfigureServices(services => services.PostConfigure<SiloOptions>(options => options.TimeProvider = clock));
        }
    }

    /// <summary>A client carrying a bearer token of <paramref name="user"/>.</summary>
    public async Task<HttpClient> ClientForAsync(string user)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await TokenForAsync(user));
        return client;
    }

    public async Task<string> TokenForAsync(string user)
    {
        var response = await CreateClient().PostAsJsonAsync("/api/auth/token", new { username = user, password = Password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>())!.AccessToken;
    }

    /// <summary>Serves over real Kestrel on a free loopback port (for WebSocket tests) and returns its address.</summary>
    public Uri StartKestrel()
    {
        UseKestrel(0);
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        return new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)));
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
