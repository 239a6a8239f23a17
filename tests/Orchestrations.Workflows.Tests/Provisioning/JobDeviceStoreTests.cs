using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;
using Moq;
using Orchestrations.Testing.Azurite;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.JobDevices;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>A job's devices kept in blobs, one per chunk, on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class JobDeviceStoreTests(AzuriteFixture azurite)
{
    private readonly BlobServiceClient _blobs = new(azurite.ConnectionString);
    private readonly WorkflowStorageOptions _storage = TestStorage.Unique();

    private JobDeviceStore Store() => new(_blobs, Options.Create(_storage));

    [Fact]
    public async Task SaveThenLoad_EachChunkHoldsItsDevicesInJobOrder()
    {
        List<JobDevice> devices = TestDevices.Devices(25);
        devices[24] = devices[24] with { IpAddress = "10.1.2.3" };

        JobDeviceSet set = await Store().SaveAsync("job-1", "0123456789abcdef0123", devices, 10, CancellationToken.None);

        Assert.Equal((25, 10, 3), (set.Count, set.ChunkSize, set.Chunks));
        Assert.Equal(["iccid", "imei"], set.IdentifierKinds);
        Assert.Equal("job-1/devices/0123456789abcdef", set.Prefix);
        List<JobDevice> loaded = [];
        for (int chunk = 0; chunk < set.Chunks; chunk++)
        {
            loaded.AddRange(await new LoadJobDevices(Store()).RunAsync(new Mock<TaskActivityContext>().Object, new LoadJobDevicesInput(set, chunk)));
        }

        Assert.Equal(devices.Select(d => d.Key), loaded.Select(d => d.Key));
        Assert.Equal("10.1.2.3", loaded[24].IpAddress);
        Assert.Equal(3, await _blobs.GetBlobContainerClient(_storage.ReportContainer).GetBlobsAsync(BlobTraits.None, BlobStates.None, set.Prefix + "/", CancellationToken.None).CountAsync());
    }

    [Fact]
    public async Task TwoRequestsUnderOneJobId_NeitherOverwritesTheOther()
    {
        JobDeviceSet first = await Store().SaveAsync("job-2", "aaaaaaaaaaaaaaaa1", TestDevices.Devices(3), 10, CancellationToken.None);
        JobDeviceSet second = await Store().SaveAsync("job-2", "bbbbbbbbbbbbbbbb2", [.. TestDevices.Devices(5).Skip(3)], 10, CancellationToken.None);

        Assert.Equal(TestDevices.Devices(3).Select(d => d.Key), (await Store().LoadAsync(first, 0, CancellationToken.None)).Select(d => d.Key));
        Assert.Equal(TestDevices.Devices(5).Skip(3).Select(d => d.Key), (await Store().LoadAsync(second, 0, CancellationToken.None)).Select(d => d.Key));
    }

    [Fact]
    public async Task Load_MissingOrShortBlob_FailsInsteadOfAnEmptyChunk()
    {
        JobDeviceSet set = await Store().SaveAsync("job-3", "cccccccccccccccc", TestDevices.Devices(4), 2, CancellationToken.None);
        await _blobs.GetBlobContainerClient(_storage.ReportContainer).DeleteBlobAsync(set.ChunkBlob(1));
        JobDeviceSet claimsMore = set with { Count = 5, ChunkSize = 5 };

        RequestFailedException missing = await Assert.ThrowsAsync<RequestFailedException>(() => Store().LoadAsync(set, 1, CancellationToken.None));
        InvalidDataException shorter = await Assert.ThrowsAsync<InvalidDataException>(() => Store().LoadAsync(claimsMore, 0, CancellationToken.None));

        Assert.Equal(404, missing.Status);
        Assert.Contains("holds 2 devices; the job expects 5", shorter.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceSet_ChunkArithmetic()
    {
        JobDeviceSet set = new("c", "p", 25, 10, ["imei"]);

        Assert.Equal([0, 10, 20], Enumerable.Range(0, set.Chunks).Select(set.FirstIndex));
        Assert.Equal([10, 10, 5], Enumerable.Range(0, set.Chunks).Select(set.ChunkLength));
        Assert.Equal("p/chunk-0002.json", set.ChunkBlob(2));
        Assert.Equal(0, (set with { Count = 0 }).Chunks);
    }
}
